"""SLA condition fields, registered into the ticket condition registry
(``kefu.tickets.conditions.ticket_conditions``) so views, triggers, automations and SLA
policies can all use them:

* ``hours_until_next_sla_breach`` (Zendesk's automation condition "Hours until next SLA
  breach"): whole hours from now to the ticket's next deadline still to meet
  (``SlaTicketState.next_breach_at``), with the hours semantics of every ``HoursSpec``
  (``is 2`` = 2 ≤ hours < 3). An overdue deadline counts negative hours, so ``less_than 2``
  also matches tickets already breached. Tickets without a running SLA match nothing. It is a
  time-based condition, so an automation may rely on it alone. Views use it for "breaches
  within N hours" (``less_than N``).
* ``sla_breached`` ``is true|false``: one of the ticket's SLA targets is breached and not yet
  fulfilled (a deadline that has passed counts at once, before the scheduler's scan).

Both read the state the last evaluation stored; triggers run before the SLA hook of the same
update, so they see the state from before the change.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext as _

from kefu.core.conditions import FieldSpec, HoursSpec, InvalidValue, Op
from kefu.tickets.conditions import ticket_conditions

from .models import SlaTicketState

HOURS_UNTIL_NEXT_BREACH = "hours_until_next_sla_breach"
SLA_BREACHED = "sla_breached"


def _state(obj: Any) -> tuple[dt.datetime | None, bool] | None:
    """(next_breach_at, breached) of a ticket (or a trigger's view of one), read fresh."""
    row = SlaTicketState.objects.filter(ticket_id=obj.pk).values_list("next_breach_at", "breached")
    return next(iter(row), None)


@dataclass(frozen=True)
class NextBreach:
    """``SlaTicketState.next_breach_at`` as a condition source (SQL through the join)."""

    def expression(self) -> F:
        return F("sla_state__next_breach_at")

    def read(self, obj: Any) -> Any:
        state = _state(obj)
        return state[0] if state is not None else None


@dataclass(frozen=True, kw_only=True)
class SlaBreachedSpec(FieldSpec):
    supported: ClassVar[tuple[Op, ...]] = (Op.IS, Op.IS_NOT)

    def clean(self, operator: Op, value: Any) -> tuple[Op, Any]:
        if value is True or value in ("true", "1"):
            value = True
        elif value is False or value in ("false", "0"):
            value = False
        else:
            raise InvalidValue(
                _("Invalid value %(value)s for field %(field)s")
                % {"value": value, "field": self.name}
            )
        # "is false" is "is_not true": one positive test to write, in SQL and in Python.
        if value is False:
            return (Op.IS_NOT if operator == Op.IS else Op.IS), True
        return operator, True

    def to_q(self, operator: Op, value: Any, *, now: dt.datetime) -> Q:
        # EXISTS is never NULL, so NOT is the exact negation (tickets without a state row
        # are "not breached").
        breached = Q(
            Exists(
                SlaTicketState.objects.filter(ticket_id=OuterRef("pk")).filter(
                    Q(breached=True) | Q(next_breach_at__lte=now)
                )
            )
        )
        return breached if operator == Op.IS else ~breached

    def matches(self, obj: Any, operator: Op, value: Any, *, now: dt.datetime) -> bool:
        state = _state(obj)
        breached = state is not None and (state[1] or (state[0] is not None and state[0] <= now))
        return breached if operator == Op.IS else not breached


def register() -> None:
    if ticket_conditions.resolve(HOURS_UNTIL_NEXT_BREACH) is not None:
        return  # ready() ran twice (tests reloading apps)
    ticket_conditions.register(
        HoursSpec(name=HOURS_UNTIL_NEXT_BREACH, source=NextBreach(), until=True)
    )
    ticket_conditions.register(SlaBreachedSpec(name=SLA_BREACHED))
