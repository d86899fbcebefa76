"""An agent who opens a ticket for a customer with a public comment already emails that comment
(the email channel sends agents' public comments itself, as Zendesk's "proactive ticket"
notification does), so "Notify requester of received request" fires only when the customer
opened the ticket themselves — before this, such a customer got two emails at once."""

from django.db import migrations

RECEIPT = "Notify requester of received request / 通知请求者已收到请求"
BY_END_USER = {"field": "role", "operator": "is", "value": "end_user"}


def adjust(apps, schema_editor):
    Trigger = apps.get_model("rules", "Trigger")
    db = schema_editor.connection.alias
    for trigger in Trigger.objects.using(db).filter(title=RECEIPT):
        conditions = dict(trigger.conditions)
        if BY_END_USER not in conditions.get("all", []):
            conditions["all"] = [*conditions.get("all", []), BY_END_USER]
            trigger.conditions = conditions
            trigger.save(update_fields=["conditions"])


class Migration(migrations.Migration):
    dependencies = [("rules", "0003_defaults_with_email_channel")]

    operations = [migrations.RunPython(adjust, migrations.RunPython.noop)]
