"""The SLA hook's batch function (``hooks.run_many``), until the SLA app registers its own.

``sla.evaluate`` re-evaluates a ticket's SLAs after each outermost change, in ~12 queries.
For a batch of changes (``update_tickets``) this does the same in one pass: the tickets a
trigger has written since are read again in one query, the others are taken as changed, and
all are evaluated together by
``kefu.sla``'s batched ``evaluate_tickets`` (six reads for the batch, bulk writes).

One difference had to be kept out: when a ticket's matching policy changes, the per-change
hook records the change as an event of that change's audit, while ``evaluate_tickets``
without an audit writes a system audit of its own. So a ticket whose matching policy differs
from the one on record is evaluated alone, by ``evaluate_ticket`` with its audit — the path
the per-change hook takes. (The right home for this function is ``kefu.sla``, with
``evaluate_tickets`` taking one audit per ticket; see docs/tickets.md.)
"""

from collections.abc import Sequence

from kefu.core import clock
from kefu.sla.actions.live import _policies, evaluate_ticket, evaluate_tickets, matching_policy
from kefu.sla.models import SlaTicketState
from kefu.tickets import hooks
from kefu.tickets.hooks import TicketChange
from kefu.tickets.models import Ticket


def evaluate_slas_many(changes: Sequence[TicketChange]) -> Sequence[TicketChange]:
    """Batch function of the ``sla.evaluate`` hook."""
    outermost = {c.ticket.pk: c for c in changes if c.depth == 0}
    if not outermost:
        return []
    # A ticket a hook has written since the change (a trigger's update) is read again; the
    # others are the change's own copy, as stored (hooks.watch in update_tickets).
    stale = [pk for pk in outermost if hooks.rewritten(pk)]
    fresh = {t.pk: t for t in Ticket.objects.filter(pk__in=stale)} if stale else {}
    tickets = [fresh.get(pk, outermost[pk].ticket) for pk in sorted(outermost)]
    recorded = dict(
        SlaTicketState.objects.filter(ticket_id__in=outermost).values_list("ticket_id", "policy_id")
    )
    policies = _policies()
    now = clock.now()
    together = []
    for ticket in tickets:
        if matching_policy(ticket, policies, now) == recorded.get(ticket.pk):
            together.append(ticket)
        else:
            evaluate_ticket(ticket, audit=outermost[ticket.pk].audit)
    if together:
        evaluate_tickets(together, now=now)
    return []
