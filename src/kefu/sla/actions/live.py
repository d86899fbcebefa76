"""Live SLA state: evaluating a ticket after a change, rebuilding it, firing warnings/breaches.

One function computes everything, :func:`evaluate_ticket`: it picks the policy that matches
the ticket now (recording a change of policy as an ``SlaPolicy`` audit event), replays the
ticket's audit events through the metric state machines (``engine.replay``) and stores the
result: one ``SlaMetricState`` row per metric, Zendesk's ``TicketMetricEvent`` rows, and the
ticket's ``TicketMetricSet``. The ticket hook, the scheduler, policy changes and the
``kefu sla rebuild`` command all call it.

Audit events without a ticket change (policy applied by the re-evaluation task, warnings,
breaches) are written by ``writes.write_sla_events`` — the one place this app writes to a
ticket's history. They do not run the ticket hooks (nothing about the ticket changed).
Re-evaluating many tickets after a change lives in ``reevaluation``.
"""

import dataclasses
import datetime as dt
import functools
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from kefu.core import clock, configcache
from kefu.core.conditions import BoundConditions, bind
from kefu.tickets import hooks
from kefu.tickets.conditions import ticket_conditions
from kefu.tickets.models import Audit, Ticket

from .. import business_time, fastread, retarget
from ..choices import AUDIT_BREACH, AUDIT_POLICY, AUDIT_WARNING, Stage
from ..engine import MetricState, Moment, PolicyInfo, Replay, Target, replay
from ..models import (
    SlaMetricState,
    SlaTicketState,
    TicketMetricSet,
)
from ..ticket_metrics import TicketMetrics, compute
from .schedules import compiled_by_id
from .writes import EventRow, _Writes, write_sla_events

log = logging.getLogger(__name__)


# --- Policies, cached per process by (id, updated_at) -------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Policy:
    info: PolicyInfo
    conditions: BoundConditions | None  # None: conditions no longer valid (never matches)


@functools.lru_cache(maxsize=512)
def _load_policy(
    policy_id: int, updated_at: dt.datetime | None, title: str, description: str, warning: int,
    filter_json: str, metrics_json: str,
) -> _Policy:  # fmt: skip

    metrics = json.loads(metrics_json)
    info = PolicyInfo(
        id=policy_id,
        title=title,
        description=description,
        warning_minutes=warning,
        targets={
            (m["metric"], m["priority"]): Target(
                minutes=float(m["target"]), business_hours=bool(m.get("business_hours"))
            )
            for m in metrics
        },
    )
    try:
        conditions: BoundConditions | None = bind(json.loads(filter_json), ticket_conditions)
    except ValueError:
        log.warning("SLA policy %s has conditions that no longer validate", policy_id)
        conditions = None
    return _Policy(info=info, conditions=conditions)


# The policies in order, kept per process (kefu.core.configcache): the hook read them on every
# ticket change. The fingerprint moves with every policy action (each sets ``updated_at``, a
# delete changes the count); the actions also call ``policies_changed`` for this process.
POLICIES = "sla.policies"
configcache.register(
    POLICIES,
    lambda: [
        "SELECT COUNT(*) FROM sla_slapolicy",
        "SELECT MAX(updated_at) FROM sla_slapolicy",
        "SELECT MAX(id) FROM sla_slapolicy",
    ],
)


def policies_changed() -> None:
    """This process changed the policies: the next evaluation reads them again."""
    configcache.changed(POLICIES)


def _policies(rows: list[tuple[Any, ...]] | None = None) -> list[_Policy]:
    if rows is None:
        return configcache.cached(POLICIES, [POLICIES], lambda: _compiled(fastread.policies()))
    return _compiled(rows)


def _compiled(rows: list[tuple[Any, ...]]) -> list[_Policy]:
    return [
        _load_policy(
            pk,
            None,
            title,
            description,
            warning,
            json.dumps(filter_, sort_keys=True),
            json.dumps(metrics, sort_keys=True),
        )
        for pk, title, description, warning, filter_, metrics in rows
    ]


def matching_policy(ticket: Ticket, policies: Sequence[_Policy], now: dt.datetime) -> int | None:
    """The first policy (by position) whose conditions the ticket meets now."""
    if ticket.deleted_at is not None:
        return None
    for policy in policies:
        if policy.conditions is not None and policy.conditions.matches(
            ticket, now=now, context={"current_user": None}
        ):
            return policy.info.id
    return None


# --- Evaluate -----------------------------------------------------------------------------------


def _policy_ref(policies: Sequence[_Policy], policy_id: int | None) -> dict | None:
    for policy in policies:
        if policy.info.id == policy_id:
            return policy.info.ref()
    return None


def evaluate_ticket(
    ticket: Ticket, *, audit: Audit | None = None, now: dt.datetime | None = None
) -> Replay | None:
    """Re-evaluate ``ticket``'s SLAs and store the result (see the module docstring).

    ``audit``: the change being made, which records a change of policy (else a system audit
    does). Runs in the caller's transaction; cheap enough for every ticket update (six reads,
    writes only what changed)."""
    return evaluate_tickets([ticket], now=now, audit=audit).get(ticket.pk)


def next_breach(result: Replay) -> tuple[dt.datetime | None, bool]:
    """The earliest deadline still to meet (active, or breached and not fulfilled) and
    whether one of those is breached — ``SlaTicketState.next_breach_at`` / ``breached``."""
    return _next_breach(result.states.values())


def _next_breach(states: Iterable[MetricState]) -> tuple[dt.datetime | None, bool]:
    pending = [
        state
        for state in states
        if state.stage in (Stage.ACTIVE, Stage.BREACHED)
        and state.fulfilled_at is None
        and state.breach_at is not None
    ]
    return (
        min((state.breach_at for state in pending), default=None),  # type: ignore[type-var]
        any(state.stage == Stage.BREACHED for state in pending),
    )


def _with_policy(
    moments: list[Moment], policy_id: int | None, audit: Audit | None, now: dt.datetime
) -> list[Moment]:
    if audit is not None:
        for index, moment in enumerate(moments):
            if moment.audit_id == audit.pk:
                moments[index] = dataclasses.replace(moment, policy_set=True, policy_id=policy_id)
                return moments
    return [*moments, Moment(time=now, policy_set=True, policy_id=policy_id)]


_STATE_FIELDS = (
    "instance_id",
    "policy_id",
    "stage",
    "target_minutes",
    "business_hours",
    "started_at",
    "resumed_at",
    "elapsed_minutes",
    "breach_at",
    "warn_at",
    "fulfilled_at",
)


_METRIC_PAIRS = (
    "reply_time",
    "first_resolution_time",
    "full_resolution_time",
    "agent_wait_time",
    "requester_wait_time",
    "on_hold_time",
)
_METRIC_PLAIN = (
    "reopens",
    "replies",
    "group_stations",
    "assignee_stations",
    "first_contact_resolution",
    "assigned_at",
    "initially_assigned_at",
    "solved_at",
    "status_updated_at",
    "latest_comment_added_at",
)


def _metric_values(ticket: Ticket, metrics: TicketMetrics) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(metrics, name) for name in _METRIC_PLAIN}
    for name in _METRIC_PAIRS:
        pair = getattr(metrics, name)
        values[f"{name}_calendar"] = pair.calendar if pair else None
        values[f"{name}_business"] = pair.business if pair else None
    values["requester_updated_at"] = ticket.requester_updated_at
    values["assignee_updated_at"] = ticket.assignee_updated_at
    values["created_at"] = metrics.created_at or ticket.created_at
    return values


_SET_COLUMNS = (
    *_METRIC_PLAIN,
    *(f"{name}_{kind}" for name in _METRIC_PAIRS for kind in ("calendar", "business")),
    "requester_updated_at",
    "assignee_updated_at",
    "created_at",
)


# --- The ticket hook ------------------------------------------------------------------------


def on_ticket_change(change: hooks.TicketChange) -> None:
    """``sla.evaluate`` (order 200): after triggers, on the outermost change only, so the
    changes triggers made are included and the ticket is evaluated once per update."""
    if change.depth != 0:
        return
    ticket = fastread.ticket(change.ticket.pk)  # triggers may have changed it since
    evaluate_tickets([ticket], audit=change.audit, created=change.kind == "create")


def evaluate_tickets(
    tickets: Sequence[Ticket],
    *,
    now: dt.datetime | None = None,
    audit: Audit | None = None,
    ticket_metrics: bool = True,
    created: bool = False,
) -> dict[int, Replay]:
    """``evaluate_ticket`` for many tickets at once (re-evaluation, rebuild): the same
    results, read in six queries for the whole batch and written in bulk (a change of policy
    is a system audit per ticket, inserted in bulk; or an event in ``audit``, the change being
    made, when one ticket is evaluated by the hook). Returns each ticket's replay.

    ``created``: the tickets were created in the current transaction (the hook on a create).
    Then nothing of theirs is stored unless they have a state row — every evaluation that
    stores metric rows, events or a metric set writes one too, and a trigger that pins a
    schedule writes one first — so without one, three reads are left out."""
    now = now or clock.now()
    policies = _policies()
    by_id = {p.info.id: p.info for p in policies}
    ids = [t.pk for t in tickets]
    contexts = fastread.ticket_contexts(ids)
    histories = fastread.moments_many(ids)
    if created and not any(context.has_state for context in contexts.values()):
        stored: dict[int, dict[str, dict[str, Any]]] = {}
        event_keys: dict[int, set[tuple[str, int, str, dt.datetime]]] = {}
        sets: dict[int, dict[str, Any]] = {}
    else:
        stored = fastread.metric_states_many(ids)
        event_keys = fastread.metric_event_keys_many(ids)
        sets = fastread.metric_sets_many(ids, _SET_COLUMNS) if ticket_metrics else {}
    writes = _Writes(now=now)
    results: dict[int, Replay] = {}
    for ticket in tickets:
        existing = stored.get(ticket.pk, {})
        if ticket.deleted_at is not None:
            writes.metrics_stale.extend((row["id"], ticket.pk) for row in existing.values())
            continue
        moments = histories.get(ticket.pk)
        if not moments:
            continue
        recorded = next((m.policy_id for m in reversed(moments) if m.policy_set), None)
        matched = matching_policy(ticket, policies, now)
        context = contexts[ticket.pk]
        audits = context.audits
        if matched != recorded:
            audits += 1  # the policy event, in ``audit`` or a system audit written below
            event = (AUDIT_POLICY, "sla_policy", _policy_ref(policies, matched),
                     _policy_ref(policies, recorded))  # fmt: skip
            if audit is not None:
                write_sla_events(ticket, [event], audit=audit)
            else:
                writes.audits.append((ticket, [event]))
            moments = _with_policy(moments, matched, audit, now)
        schedule = compiled_by_id(context.schedule_id, context.revision)
        result = replay(moments, policies=by_id, schedule=schedule, now=now)
        results[ticket.pk] = result
        next_breach_at, breached = next_breach(result)
        fast_key = retarget.fingerprint(
            result, by_id, audits=audits, schedule_key=_schedule_key(context)
        )
        segments = {
            metric: retarget.encode_segments(result.instances[metric][-1].segments)
            for metric in result.states
        }
        next_event_at = _plan_states(ticket.pk, result.states, segments, existing, writes)
        if not context.has_state:
            writes.states_new.append(
                SlaTicketState(ticket_id=ticket.pk, policy_id=matched,
                               next_breach_at=next_breach_at, breached=breached,
                               fast_key=fast_key, next_event_at=next_event_at, updated_at=now)
            )  # fmt: skip
        else:
            _plan_ticket_state(ticket.pk, context, matched, next_breach_at, breached, fast_key,
                               next_event_at, writes)  # fmt: skip
        keys = event_keys.get(ticket.pk, set())
        writes.events_new.extend(
            EventRow(ticket.pk, e.metric, e.instance_id, e.type, e.time, e.sla, e.status)
            for e in result.events
            if (e.metric, e.instance_id, e.type, e.time) not in keys
        )  # fmt: skip
        if not ticket_metrics:
            continue
        values = _metric_values(ticket, compute(moments, schedule=schedule))
        row = sets.get(ticket.pk)
        if row is None:
            writes.sets_new.append(TicketMetricSet(ticket_id=ticket.pk, updated_at=now, **values))
        else:
            changed = {name: value for name, value in values.items() if row[name] != value}
            if changed:
                writes.sets_changed.append((row["id"], ticket.pk, changed))
    writes.flush()
    return results


def _schedule_key(context: fastread.TicketContext) -> str:
    return f"{context.schedule_id}:{context.revision}"


def _plan_ticket_state(
    ticket_id: int,
    context: fastread.TicketContext,
    policy_id: int | None,
    next_breach_at: dt.datetime | None,
    breached: bool,
    fast_key: str,
    next_event_at: dt.datetime | None,
    writes: _Writes,
) -> None:
    stored = (context.policy_id, context.next_breach_at, context.breached, context.fast_key,
              context.next_event_at)  # fmt: skip
    if stored != (policy_id, next_breach_at, breached, fast_key, next_event_at):
        changed = {"policy_id": policy_id, "next_breach_at": next_breach_at,
                   "breached": breached, "fast_key": fast_key,
                   "next_event_at": next_event_at}  # fmt: skip
        writes.states_changed.append((ticket_id, ticket_id, changed))


def _plan_states(
    ticket_id: int,
    states: dict[str, MetricState],
    segments: dict[str, str],
    existing: dict[str, dict[str, Any]],
    writes: _Writes,
) -> dt.datetime | None:
    """Plan the writes of a ticket's metric rows; returns the ticket's ``next_event_at`` as
    the rows will be (the earliest breach or warning whose event is not written yet)."""
    writes.metrics_stale.extend(
        (row["id"], ticket_id) for metric, row in existing.items() if metric not in states
    )
    due: list[dt.datetime] = []
    for metric, state in states.items():
        # The state's fields are _STATE_FIELDS and the metric (a plain dataclass: its
        # __dict__ is the fastest way to all of them).
        values = dict(state.__dict__)
        del values["metric"]
        values["segments"] = segments[metric]
        row = existing.get(metric)
        recorded = warned = None
        if row is None:
            writes.metrics_new.append(
                SlaMetricState(ticket_id=ticket_id, metric=metric, updated_at=writes.now,
                               **values)
            )  # fmt: skip
        else:
            recorded, warned = row["breach_recorded_at"], row["warned_at"]
            changed = {name: value for name, value in values.items() if row[name] != value}
            if changed:
                renewed = "instance_id" in changed
                if ("breach_at" in changed or renewed) and recorded is not None:
                    changed["breach_recorded_at"] = recorded = None
                if ("warn_at" in changed or renewed) and warned is not None:
                    changed["warned_at"] = warned = None
                writes.metrics_changed.append((row["id"], ticket_id, changed))
        due.extend(_due(state.breach_at, recorded, state.warn_at, warned))
    return min(due, default=None)


def _due(
    breach_at: dt.datetime | None,
    recorded: dt.datetime | None,
    warn_at: dt.datetime | None,
    warned: dt.datetime | None,
) -> list[dt.datetime]:
    """A metric row's moments whose event the scheduler has not written yet (its breach, its
    warning): the ticket's ``next_event_at`` is the earliest of its rows'."""
    due = []
    if breach_at is not None and recorded is None:
        due.append(breach_at)
    if warn_at is not None and warned is None:
        due.append(warn_at)
    return due


# --- Warnings and breaches (the scheduler) -----------------------------------------------------


def _event_value(row: SlaMetricState) -> dict[str, Any]:
    return {
        "metric": row.metric,
        "instance_id": row.instance_id,
        "policy_id": row.policy_id,
        "target": row.target_minutes,
        "business_hours": row.business_hours,
        "breach_at": row.breach_at.isoformat() if row.breach_at else None,
    }


def record_due_events(*, now: dt.datetime | None = None, batch_size: int = 500) -> int:
    """Write the warning and breach audit events that are due; each fires once.

    Reads only the tickets whose ``next_event_at`` has come (a partial index), each under its
    row lock (as ``update_ticket`` takes it): its breaches first, then the ticket evaluated
    again (it is breached now), then the warnings still due, each claimed with a conditional
    UPDATE so that two schedulers never write the same event; then its ``next_event_at`` is
    read again from its metric rows. Returns how many events were written."""
    now = now or clock.now()
    written = 0
    due = list(
        SlaTicketState.objects.filter(next_event_at__lte=now)
        .order_by("next_event_at")
        .values_list("ticket_id", flat=True)[:batch_size]
    )
    for ticket_id in due:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
            if ticket is not None:
                written += _record_ticket_events(ticket, now)
    return written


def _record_ticket_events(ticket: Ticket, now: dt.datetime) -> int:
    written = 0
    metrics = SlaMetricState.objects.filter(ticket_id=ticket.pk)
    breaches = metrics.filter(breach_recorded_at__isnull=True, breach_at__lte=now)
    for row in breaches.order_by("breach_at", "metric"):
        claimed = SlaMetricState.objects.filter(
            pk=row.pk, breach_recorded_at__isnull=True, breach_at=row.breach_at
        ).update(breach_recorded_at=now)
        if claimed:
            write_sla_events(ticket, [(AUDIT_BREACH, row.metric, _event_value(row), None)], at=now)
            written += 1
    if written:
        evaluate_ticket(ticket, now=now)  # a breached metric warns no more (its warn_at goes)
    warnings = metrics.filter(warned_at__isnull=True, warn_at__lte=now)
    for row in warnings.order_by("warn_at", "metric"):
        claimed = SlaMetricState.objects.filter(
            pk=row.pk, warned_at__isnull=True, warn_at=row.warn_at
        ).update(warned_at=now)
        if claimed and row.stage == Stage.ACTIVE:
            write_sla_events(ticket, [(AUDIT_WARNING, row.metric, _event_value(row), None)], at=now)
            written += 1
    _refresh_next_event(ticket.pk)
    return written


def _refresh_next_event(ticket_id: int) -> None:
    """Set the ticket's ``next_event_at`` from its metric rows as they are now."""
    rows = SlaMetricState.objects.filter(ticket_id=ticket_id).values_list(
        "breach_at", "breach_recorded_at", "warn_at", "warned_at"
    )
    due = [moment for row in rows for moment in _due(*row)]
    SlaTicketState.objects.filter(ticket_id=ticket_id).update(next_event_at=min(due, default=None))


def time_left(row: SlaMetricState, *, now: dt.datetime | None = None) -> float | None:
    """Minutes until breach (negative: overdue) of an active metric, in its own hours."""
    now = now or clock.now()
    if row.stage == Stage.ACTIVE and row.breach_at is not None:
        if row.breach_at <= now:
            return -((now - row.breach_at).total_seconds() / 60)
        if row.business_hours:
            context = fastread.ticket_context(row.ticket_id, row.ticket.group_id)
            schedule = compiled_by_id(context.schedule_id, context.revision)
            return business_time.business_minutes_between(schedule, now, row.breach_at)
        return (row.breach_at - now).total_seconds() / 60
    return None
