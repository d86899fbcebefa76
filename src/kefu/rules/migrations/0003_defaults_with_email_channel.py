"""First-contact ownership as a default trigger, and the defaults fitted to the email channel.

"Assign to the first agent who replies" (首问责任制): an agent's first public reply on an
unassigned ticket assigns it to them (Zendesk's well-known first-responder trigger); the
ownership hook then records them as the ticket's owner. It is data, so an admin can narrow it
or turn it off.

The email channel (channels/email) sends agents' public replies itself and acknowledges
emailed tickets itself, so the default triggers must not send them a second time:
"Notify requester of public comment" starts inactive (kept, editable, for instances that turn
the channel's own reply mail off) and "received request" skips tickets that came by email."""

from django.db import migrations

from kefu.core.ids import allocate_ids

RECEIPT = "Notify requester of received request / 通知请求者已收到请求"
REPLY = "Notify requester of public comment / 通知请求者有新回复"
NOT_EMAIL = {"field": "via_id", "operator": "is_not", "value": "email"}
FIRST_REPLY = {
    "title": "Assign to the first agent who replies / 首问负责：首位公开回复的客服受理",
    "conditions": {
        "all": [
            {"field": "update_type", "operator": "is", "value": "Change"},
            {"field": "comment_is_public", "operator": "is", "value": True},
            {"field": "role", "operator": "is", "value": "agent"},
            {"field": "assignee_id", "operator": "is", "value": ""},
        ],
        "any": [],
    },
    "actions": [{"field": "assignee_id", "value": "current_user"}],
}


def adjust(apps, schema_editor):
    Trigger = apps.get_model("rules", "Trigger")
    TriggerCategory = apps.get_model("rules", "TriggerCategory")
    db = schema_editor.connection.alias
    category = TriggerCategory.objects.using(db).order_by("position", "id").first()
    if (
        category is not None
        and not Trigger.objects.using(db).filter(title=FIRST_REPLY["title"]).exists()
    ):
        trigger = Trigger(
            id=allocate_ids(1, using=db)[0],
            category=category,
            position=0,
            title=FIRST_REPLY["title"],
            conditions=FIRST_REPLY["conditions"],
            actions=FIRST_REPLY["actions"],
        )
        trigger.save(using=db, force_insert=True)
    for trigger in Trigger.objects.using(db).filter(title=RECEIPT):
        conditions = dict(trigger.conditions)
        if NOT_EMAIL not in conditions.get("all", []):
            conditions["all"] = [*conditions.get("all", []), NOT_EMAIL]
            trigger.conditions = conditions
            trigger.save(update_fields=["conditions"])
    Trigger.objects.using(db).filter(title=REPLY).update(
        active=False,
        description="The email channel already emails public replies to the requester and "
        "CCs; activate this only when that is turned off. 邮件渠道已自动发送公开回复；"
        "仅在关闭该功能时启用。",
    )


class Migration(migrations.Migration):
    dependencies = [("rules", "0002_default_rules"), ("core", "0001_initial")]

    operations = [migrations.RunPython(adjust, migrations.RunPython.noop)]
