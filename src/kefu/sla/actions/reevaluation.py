"""Re-evaluating many tickets: after a change of policies or targets (chunk tasks judge the
stored metric rows again — ``plan_rejudge``/``write_rejudged`` — and replay the rest through
``live.evaluate_tickets``) and the rebuild (``kefu sla rebuild``). docs/sla.md, "After a
change of targets" and "Sharing a re-evaluation between worker processes"."""

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from kefu.core import clock
from kefu.tickets.models import Ticket

from .. import fastread, retarget
from ..choices import MetricEventType, Stage
from ..engine import zendesk_name
from .live import (
    _next_breach,
    _plan_states,
    _plan_ticket_state,
    _policies,
    _Policy,
    _schedule_key,
    evaluate_tickets,
)
from .schedules import compiled_by_id
from .writes import EventRow, _Writes

log = logging.getLogger(__name__)


# --- Rebuild and re-evaluate in batches -------------------------------------------------------


def reevaluate_tickets(
    *,
    open_only: bool = True,
    batch_size: int = 1000,
    progress: Any = None,
    ticket_metrics: bool = True,
    only: Q | None = None,
    id_range: tuple[int, int] | None = None,
) -> int:
    """Evaluate every (open) ticket again, in batches of one transaction each; after a policy
    or schedule change, and for ``kefu sla rebuild``. ``progress(done, total)`` is called
    after each batch. Idempotent: running it twice changes nothing the second time.

    Each batch is read in six queries whatever its size (``evaluate_tickets``) and written
    with bulk inserts/updates of what changed. ``ticket_metrics=False`` leaves the ticket
    metrics alone: they depend on the history and the schedule, not on policies, so the
    re-evaluation after a policy change skips them; its batches are judged *outside* the write
    transaction (``plan_rejudge``) and written by ``write_rejudged``, which re-checks each
    ticket under the write lock, so two processes can share the work (``tasks.py``).
    ``only``: a filter on the tickets (the ones a policy change can affect,
    ``policies.tickets_affected_by``); ``id_range``: the first and last ticket id to take
    (a chunk of a run split over workers)."""
    ids = ticket_ids_to_reevaluate(open_only=open_only, only=only, id_range=id_range)
    done = 0
    now = clock.now()
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        # Only policies (or schedules) changed: judge the stored instances against the new
        # targets where the fingerprint allows it, before taking the write lock.
        plan = None if ticket_metrics else plan_rejudge(chunk, now=now)
        with transaction.atomic():
            if plan is not None:
                write_rejudged(plan, now=now)
            else:
                batch = list(Ticket.objects.filter(pk__in=chunk).order_by("pk"))
                evaluate_tickets(batch, now=now, ticket_metrics=ticket_metrics)
            done += len(chunk)
            if progress is not None:
                # In the batch's transaction: on SQLite one wait for the write lock per batch,
                # not two (a waiting writer polls, sleeping up to 25 ms at a time).
                progress(done, len(ids))
    return done


def ticket_ids_to_reevaluate(
    *, open_only: bool = True, only: Q | None = None, id_range: tuple[int, int] | None = None
) -> list[int]:
    """The ids ``reevaluate_tickets`` takes, in order."""
    tickets = Ticket.objects.filter(deleted_at__isnull=True)
    if open_only:
        tickets = tickets.exclude(status__in=("solved", "closed"))
    if only is not None:
        tickets = tickets.filter(only)
    if id_range is not None:
        tickets = tickets.filter(pk__gte=id_range[0], pk__lte=id_range[1])
    return list(tickets.order_by("pk").values_list("pk", flat=True))


def matching_policies(
    ticket_ids: Sequence[int], policies: Sequence[_Policy], now: dt.datetime
) -> dict[int, int]:
    """``matching_policy`` of many tickets as stored, by SQL: {ticket id: policy id} for the
    tickets a policy matches. One query per policy with conditions, in order, over the
    tickets no earlier policy took (the condition language's ``q`` agrees with ``matches``
    on every saved row). The caller leaves deleted tickets out (they match no policy)."""
    remaining = set(ticket_ids)
    matched: dict[int, int] = {}
    for policy in policies:
        if not remaining:
            break
        conditions = policy.conditions
        if conditions is None:
            continue
        if not conditions.all_of and not conditions.any_of:
            hits: set[int] = remaining
        else:
            q = conditions.q(now=now, context={"current_user": None})
            hits = set(
                Ticket.objects.filter(q, pk__in=remaining).order_by().values_list("pk", flat=True)
            )
        for ticket_id in hits:
            matched[ticket_id] = policy.info.id
        remaining = remaining - hits
    return matched


def rejudge_tickets(tickets: Sequence[Ticket], *, now: dt.datetime) -> list[Ticket]:
    """``rejudge_ids`` for ``Ticket`` objects: returns the tickets left to evaluate in full."""
    rest = set(rejudge_ids([t.pk for t in tickets], now=now))
    return [t for t in tickets if t.pk in rest]


def rejudge_ids(ticket_ids: Sequence[int], *, now: dt.datetime) -> list[int]:
    """Store the SLA state ``evaluate_tickets(tickets, ticket_metrics=False)`` would store,
    without replaying history, for the tickets whose stored fingerprint allows it (see
    ``sla/retarget.py``: only the targets of their policy may have changed); returns the ids
    of the others, to be evaluated in full. Reads the batch in a few queries (contexts, one
    per policy with conditions, metric rows) without loading ``Ticket`` objects, writes what
    changed. Runs in the caller's transaction."""
    plan = plan_rejudge(ticket_ids, now=now)
    plan.writes.flush()
    return plan.rest


@dataclasses.dataclass
class RejudgePlan:
    """A batch judged by ``plan_rejudge``: what to write, and what it was judged from."""

    ids: list[int]
    writes: "_Writes"
    policies: list[tuple[Any, ...]]  # the policies as read (``fastread.policies``)
    seen: dict[int, fastread.TicketContext]  # the judged tickets' contexts as read
    rest: list[int]  # the tickets left to the full replay


def plan_rejudge(ticket_ids: Sequence[int], *, now: dt.datetime) -> RejudgePlan:
    """``rejudge_ids`` without writing: the plan ``write_rejudged`` writes (or
    ``plan.writes.flush()`` in the transaction that read it)."""
    rows = fastread.policies()
    policies = _policies(rows)
    by_id = {p.info.id: p.info for p in policies}
    contexts = fastread.ticket_contexts(list(ticket_ids))
    candidates = [
        pk
        for pk in ticket_ids
        if pk in contexts and not contexts[pk].deleted and contexts[pk].fast_key
    ]
    matches = matching_policies(candidates, policies, now)
    candidates = [
        pk
        for pk in candidates
        if contexts[pk].policy_id is not None and matches.get(pk) == contexts[pk].policy_id
    ]
    stored = fastread.metric_states_many(candidates)
    writes = _Writes(now=now)
    handled: set[int] = set()
    for ticket_id in candidates:
        context = contexts[ticket_id]
        matched = matches[ticket_id]
        existing = stored.get(ticket_id, {})
        judged = retarget.rejudge(
            context.fast_key,
            policy=by_id[matched],
            audits=context.audits,
            schedule_key=_schedule_key(context),
            rows=existing,
            schedule=compiled_by_id(context.schedule_id, context.revision),
            now=now,
        )
        if judged is None:
            continue
        handled.add(ticket_id)
        states, breaches = judged
        next_breach_at, breached = _next_breach(states.values())
        segments = {metric: existing[metric]["segments"] for metric in states}
        next_event_at = _plan_states(ticket_id, states, segments, existing, writes)
        _plan_ticket_state(ticket_id, context, matched, next_breach_at, breached,
                           context.fast_key, next_event_at, writes)  # fmt: skip
        for metric, number, at in breaches:
            row = existing[metric]
            if row["stage"] == Stage.BREACHED and row["breach_at"] == at:
                continue  # the evaluation that stored this breach wrote its event
            name, instance_id = zendesk_name(metric, number)
            # Written unless already there (the unique key; ``flush`` ignores conflicts).
            writes.events_new.append(
                EventRow(ticket_id, name, instance_id, MetricEventType.BREACH.value, at)
            )
    writes.prepare()
    return RejudgePlan(
        ids=list(ticket_ids),
        writes=writes,
        policies=rows,
        seen={pk: contexts[pk] for pk in handled},
        rest=[pk for pk in ticket_ids if pk not in handled],
    )


def write_rejudged(plan: RejudgePlan, *, now: dt.datetime) -> None:
    """Write a plan made outside any transaction, in one transaction that first makes sure
    it still holds: the batch's tickets are locked as ``update_ticket`` locks them (on
    SQLite the write transaction is the lock), and a ticket whose context moved since it was
    judged (an update, a warning or breach recorded: a new audit; another state, schedule
    revision or fingerprint) is judged again from what is stored now, as are all of
    them if the policies changed meanwhile. The tickets left to the full replay are replayed
    here, under the same lock."""
    with transaction.atomic():
        if connection.vendor != "sqlite" and plan.ids:
            # update_ticket and the scheduler take the ticket's row lock before evaluating:
            # an update in progress finishes first (and is seen below), a later one waits.
            # In id order (as every batch): two chunks never wait for each other in a cycle.
            # ``= ANY`` of one array: an IN list of 1,000 literals cost more to plan than this.
            table = connection.ops.quote_name(Ticket._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id FROM {table} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE",  # noqa: S608 - quoted name
                    [fastread.int_array(plan.ids)],
                )
        moved: list[int] = []
        if plan.seen:
            if fastread.policies() != plan.policies:
                moved = list(plan.seen)
            else:
                current = fastread.ticket_versions(list(plan.seen))
                moved = [
                    pk
                    for pk, seen in plan.seen.items()
                    if current.get(pk) != seen._replace(audits=0)
                ]
        if moved:
            plan.writes.drop(set(moved))
        plan.writes.flush()
        rest = sorted({*plan.rest, *(rejudge_ids(moved, now=now) if moved else [])})
        if rest:
            evaluate_tickets(
                list(Ticket.objects.filter(pk__in=rest).order_by("pk")),
                now=now,
                ticket_metrics=False,
            )
