"""The "Next SLA breach" column of the agent's views (Zendesk's ``sla_next_breach_at``):
the ticket's SLA badges, sortable by the earliest deadline still to meet. Registered into the
tickets app's view columns by ``SlaConfig.ready``."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from kefu.tickets.models import Ticket
from kefu.tickets.views.rows import EMPTY, register_column

from .badges import badges_for

COLUMN = "sla_next_breach_at"


def _prepare(tickets: list[Ticket]) -> None:
    found = badges_for([t.pk for t in tickets])
    for ticket in tickets:
        ticket.sla_badges = found.get(ticket.pk, [])  # type: ignore[attr-defined]


def _cell(ticket: Ticket, url: str) -> SafeString:
    badges = getattr(ticket, "sla_badges", None)
    if not badges:
        return format_html('<td class="nowrap">{}</td>', EMPTY)
    items = [
        (" sla-badge--breached" if b.breached else "", b.metric, b.breach_at.isoformat(), b.text)
        for b in badges
    ]
    html = format_html_join(
        " ", '<span class="sla-badge{}" data-metric="{}" data-breach-at="{}">{}</span>', items
    )
    return format_html('<td class="nowrap sla-cell">{}</td>', html)


def register() -> None:
    register_column(
        COLUMN,
        label=gettext_lazy("Next SLA breach"),
        cell=_cell,
        sort_key="sla_state__next_breach_at",
        prepare=_prepare,
        default=True,
    )
