"""Fill ``next_breach_at``/``breached`` (added in 0002) for tickets that already had SLA
states, from their metric states, the way ``live.next_breach`` computes them — so an upgrade
needs no ``sla_rebuild`` for the badges and the "next breach" sort to be right."""

from django.db import migrations

PENDING = """
    FROM sla_slametricstate m
    WHERE m.ticket_id = sla_slaticketstate.ticket_id
      AND m.stage IN ('active', 'breached')
      AND m.fulfilled_at IS NULL
      AND m.breach_at IS NOT NULL
"""

FILL = f"""
UPDATE sla_slaticketstate SET
    next_breach_at = (SELECT MIN(m.breach_at) {PENDING}),
    breached = EXISTS (SELECT 1 {PENDING} AND m.stage = 'breached')
"""


class Migration(migrations.Migration):
    dependencies = [("sla", "0003_reevaluation_progress")]

    operations = [migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop)]
