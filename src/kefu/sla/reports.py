"""The SLA report: attainment per policy, metric, group and agent over a date range, and
its CSV export. Read-only; built from the ticket metric events (``TicketMetricEvent``).

A measured instance is a metric instance fulfilled in the range on a ticket that had an SLA
target for that metric (an ``apply_sla`` event before the fulfilment). It is *breached* when
the same instance has a ``breach`` event, else *achieved*. Rows are grouped by the ticket's
current policy, group and assignee (Zendesk's SLA reports do the same), and list the breached
tickets so they are one click away.
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.tickets.access import visible_tickets

from .models import SlaTicketState, TicketMetricEvent


@dataclass
class ReportRow:
    policy: str
    metric: str
    group: str
    agent: str
    achieved: int = 0
    breached: int = 0
    breached_ticket_ids: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.achieved + self.breached

    @property
    def attainment(self) -> float:
        """Share achieved, in percent (100 when nothing was measured)."""
        return 100.0 if not self.total else round(100 * self.achieved / self.total, 1)


def attainment(*, user: User, start: dt.datetime, end: dt.datetime) -> list[ReportRow]:
    """Attainment rows for instances fulfilled in [start, end), over tickets ``user`` sees."""
    if not user.is_agent:
        raise PermissionDenied(_("Only agents see SLAs."))
    tickets = visible_tickets(user)
    events = TicketMetricEvent.objects.filter(ticket__in=tickets)
    fulfilled = list(
        events.filter(type="fulfill", time__gte=start, time__lt=end).values_list(
            "ticket_id", "metric", "instance_id", "time"
        )
    )
    ticket_ids = {row[0] for row in fulfilled}
    breaches = set(
        events.filter(type="breach", ticket_id__in=ticket_ids).values_list(
            "ticket_id", "metric", "instance_id"
        )
    )
    first_applied: dict[tuple[int, str], dt.datetime] = {}
    for ticket_id, metric, time in events.filter(
        type="apply_sla", ticket_id__in=ticket_ids
    ).values_list("ticket_id", "metric", "time"):
        applied_key = (ticket_id, metric)
        first_applied[applied_key] = min(time, first_applied.get(applied_key, time))
    context = {
        row[0]: row[1:]
        for row in SlaTicketState.objects.filter(ticket_id__in=ticket_ids).values_list(
            "ticket_id", "policy__title", "ticket__group__name", "ticket__assignee__name"
        )
    }
    rows: dict[tuple[str, str, str, str], ReportRow] = {}
    for ticket_id, metric, instance_id, time in fulfilled:
        applied = first_applied.get((ticket_id, metric))
        if applied is None or applied > time:
            continue  # no target when it was fulfilled
        policy, group, agent = context.get(ticket_id, (None, None, None))
        key = (policy or "-", metric, group or "-", agent or "-")
        row = rows.setdefault(
            key, ReportRow(policy=key[0], metric=key[1], group=key[2], agent=key[3])
        )
        if (ticket_id, metric, instance_id) in breaches:
            row.breached += 1
            if ticket_id not in row.breached_ticket_ids:
                row.breached_ticket_ids.append(ticket_id)
        else:
            row.achieved += 1
    return sorted(rows.values(), key=lambda r: (r.policy, r.metric, r.group, r.agent))


CSV_HEADER = (
    "policy",
    "metric",
    "group",
    "agent",
    "achieved",
    "breached",
    "attainment_percent",
    "breached_ticket_ids",
)


def attainment_csv(rows: list[ReportRow]) -> str:
    """The report as CSV (UTF-8 with a BOM so spreadsheet programs read Chinese names)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            [
                row.policy,
                row.metric,
                row.group,
                row.agent,
                row.achieved,
                row.breached,
                row.attainment,
                " ".join(str(t) for t in row.breached_ticket_ids),
            ]
        )
    return out.getvalue()
