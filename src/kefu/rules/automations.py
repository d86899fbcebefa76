"""Automations: time-based rules, run by the scheduler over every ticket that matches.

Each automation is ONE SQL query (its conditions compiled with ``ticket_filter``'s engine,
minus deleted and closed tickets), read in id order in batches; each matching ticket is
locked, checked again in Python (it may have changed since the query) and changed in its own
transaction through the same actions as triggers. Only matching tickets are touched.

Zendesk's two rules for saving one (``check_automation``): ``all`` needs at least one
time-based condition (hours since ...), and at least one ``all`` condition that the actions
make false — otherwise it would fire on the same tickets every hour forever.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.conditions import BoundConditions, Clause, HoursSpec, Op, bind
from kefu.tickets.choices import Status
from kefu.tickets.conditions import ticket_conditions
from kefu.tickets.models import Ticket, custom_field_key

from .models import Automation
from .rule_actions import BoundAction, RuleContext, apply_actions, bind_actions

log = logging.getLogger(__name__)

BATCH = 1000
STATUS_HOURS = {"OPEN", "PENDING", "HOLD", "SOLVED", "CLOSED"}


@dataclass(frozen=True)
class CompiledAutomation:
    id: int
    title: str
    conditions: BoundConditions
    actions: list[BoundAction]


def _dummy(action: BoundAction) -> Ticket | None:
    """A ticket in memory carrying only what ``action`` sets, to test a condition against."""
    sets, value = action.spec.sets, action.value
    long_ago = clock.now() - dt.timedelta(days=36500)
    if sets == "status":
        return Ticket(status=value, status_updated_at=long_ago)
    if sets in ("priority", "type"):
        return Ticket(**{sets: value})
    if sets == "group_id":
        group = value[0] if isinstance(value, list) else value
        return Ticket(group_id=group)
    if sets == "assignee_id":
        return Ticket(assignee_id=value if isinstance(value, int) else None)
    if sets and sets.startswith("custom_fields_"):
        return Ticket(custom_fields={custom_field_key(int(sets.rsplit("_", 1)[1])): value})
    return None


def _nullifies(clause: Clause, action: BoundAction) -> bool:
    name, sets = clause.spec.name, action.spec.sets
    if sets is None:
        return False
    if name == "current_tags" and sets == "current_tags":
        tags, given = set(clause.value), set(action.value)
        if clause.operator == Op.NOT_INCLUDES:
            return action.spec.name in ("current_tags", "set_tags") and bool(tags & given)
        if action.spec.name == "remove_tags":
            return tags <= given
        return action.spec.name == "set_tags" and not tags & given
    if name == sets or (name in STATUS_HOURS and sets == "status"):
        dummy = _dummy(action)
        return dummy is not None and not clause.matches(dummy, now=clock.now(), context={})
    return False


def check_automation(conditions: object, actions: object) -> CompiledAutomation:
    """Validate an automation's conditions and actions; raises ValidationError naming the
    field ("conditions" / "actions") and the problem."""
    from kefu.core.conditions import ConditionError

    try:
        bound = bind(conditions, ticket_conditions)  # type: ignore[arg-type]
    except ConditionError as exc:
        raise ValidationError({"conditions": exc.descriptions}) from None
    bound_actions = bind_actions(actions)
    if not bound_actions:
        raise ValidationError({"actions": [_("An automation needs at least one action.")]})
    if not any(isinstance(clause.spec, HoursSpec) for clause in bound.all_of):
        raise ValidationError(
            {
                "conditions": [
                    _(
                        "An automation needs at least one time-based condition in “all” "
                        "(hours since created, updated, pending, solved, ...)."
                    )
                ]
            }
        )
    if not any(_nullifies(c, a) for c in bound.all_of for a in bound_actions):
        raise ValidationError(
            {
                "conditions": [
                    _("An automation must contain a condition in “all” that one of its "
                      "actions makes false (for example “status is pending” with an action "
                      "that sets the status, or “tags do not include X” with an action that "
                      "adds X); otherwise it would run on the same tickets forever.")
                ]
            }
        )  # fmt: skip
    return CompiledAutomation(id=0, title="", conditions=bound, actions=bound_actions)


def matching_ids(
    conditions: BoundConditions, *, now: dt.datetime, after: int, limit: int
) -> list[int]:
    return list(
        Ticket.objects.filter(deleted_at__isnull=True)
        .exclude(status=Status.CLOSED)
        .filter(conditions.q(now=now), pk__gt=after)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def run_automation(automation: Automation, *, now: dt.datetime | None = None) -> int:
    """Apply one automation to every ticket it matches now; return how many it changed."""
    now = now or clock.now()
    try:
        compiled = check_automation(automation.conditions, automation.actions)
    except ValidationError:
        log.warning("automation %s no longer validates; skipped", automation.pk)
        return 0
    ctx = RuleContext(rel="automation", rule_id=automation.pk, rule_title=automation.title)
    applied = 0
    after = 0
    while True:
        ids = matching_ids(compiled.conditions, now=now, after=after, limit=BATCH)
        if not ids:
            break
        after = ids[-1]
        for pk in ids:
            with transaction.atomic():
                ticket = (
                    Ticket.objects.select_for_update()
                    .filter(pk=pk, deleted_at__isnull=True)
                    .exclude(status=Status.CLOSED)
                    .first()
                )
                if ticket is None or not compiled.conditions.matches(ticket, now=now):
                    continue  # changed since the query
                apply_actions(ticket, compiled.actions, ctx)
                applied += 1
    return applied


def run_automations(*, now: dt.datetime | None = None) -> int:
    """Every active automation, in position order (the scheduler's job)."""
    now = now or clock.now()
    return sum(
        run_automation(automation, now=now)
        for automation in Automation.objects.filter(active=True).order_by("position", "id")
    )
