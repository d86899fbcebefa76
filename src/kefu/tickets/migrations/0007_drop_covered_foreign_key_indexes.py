"""Foreign keys that lead a composite index lose their own index (it duplicated the
composite's, and every index costs each insert and most updates of the row).

The indexes are dropped by name instead of through AlterField, which on SQLite would copy
each table (the tickets table four times); both databases name them the same way.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, column, index name as Django made it)
COVERED = [
    ("tickets_audit", "ticket_id", "tickets_audit_ticket_id_9637d186"),
    ("tickets_comment", "ticket_id", "tickets_comment_ticket_id_36a9497d"),
    ("tickets_ticket", "assignee_id", "tickets_ticket_assignee_id_3a5aa407"),
    ("tickets_ticket", "group_id", "tickets_ticket_group_id_4c5eda1a"),
    ("tickets_ticket", "organization_id", "tickets_ticket_organization_id_7128da48"),
    ("tickets_ticket", "requester_id", "tickets_ticket_requester_id_2072a2f2"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_merge_light_agent_and_portal_settings"),
        ("crm", "0002_identity_bouncing"),
        ("tickets", "0006_partial_indexes_for_sparse_columns"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for table, column, name in COVERED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="audit",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="audits",
                        to="tickets.ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="comment",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="comments",
                        to="tickets.ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="assigned_tickets",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="group",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="tickets",
                        to="accounts.group",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="organization",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="tickets",
                        to="crm.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="requester",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="requested_tickets",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
