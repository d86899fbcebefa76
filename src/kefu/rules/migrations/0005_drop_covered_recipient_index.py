"""A notification's recipient leads the notification_inbox index: its own index went (as
the tickets' covered foreign keys did, tickets 0007), dropped by name, not by AlterField,
which on SQLite would copy the table."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0004_receipt_for_end_users_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "rules_notification_recipient_id_337ff342"',
                    reverse_sql='CREATE INDEX "rules_notification_recipient_id_337ff342" '
                    'ON "rules_notification" ("recipient_id")',
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="recipient",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
