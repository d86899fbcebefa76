"""The email channel (channels/email) sends agents' public replies itself and acknowledges
emailed tickets itself, so the default triggers must not send them a second time:
"Notify requester of public comment" starts inactive (kept, editable, for instances that turn
the channel's own reply mail off) and "received request" skips tickets that came by email."""

from django.db import migrations

RECEIPT = "Notify requester of received request / 通知请求者已收到请求"
REPLY = "Notify requester of public comment / 通知请求者有新回复"
NOT_EMAIL = {"field": "via_id", "operator": "is_not", "value": "email"}


def adjust(apps, schema_editor):
    Trigger = apps.get_model("rules", "Trigger")
    db = schema_editor.connection.alias
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
    dependencies = [("rules", "0002_default_rules")]

    operations = [migrations.RunPython(adjust, migrations.RunPython.noop)]
