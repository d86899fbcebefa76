from django.db import migrations

from kefu.core.ids import allocate_ids

DEFAULTS = [
    # category, agent label, end-user label, zh agent label, zh end-user label
    ("new", "New", "Open", "新建", "已受理"),
    ("open", "Open", "Open", "处理中", "处理中"),
    ("pending", "Pending", "Awaiting your reply", "等待客户回复", "等待您的回复"),
    ("hold", "On-hold", "Open", "挂起", "处理中"),
    ("solved", "Solved", "Solved", "已解决", "已解决"),
    ("closed", "Closed", "Solved", "已关闭", "已解决"),
]


def create_defaults(apps, schema_editor):
    CustomStatus = apps.get_model("tickets", "CustomStatus")
    db = schema_editor.connection.alias
    ids = allocate_ids(len(DEFAULTS), using=db)
    CustomStatus.objects.using(db).bulk_create(
        CustomStatus(
            id=new_id,
            status_category=category,
            agent_label=agent,
            end_user_label=end_user,
            translations={"zh-hans": {"agent_label": zh_agent, "end_user_label": zh_end_user}},
            active=True,
            default=True,
        )
        for new_id, (category, agent, end_user, zh_agent, zh_end_user) in zip(
            ids, DEFAULTS, strict=True
        )
    )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial"), ("core", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
