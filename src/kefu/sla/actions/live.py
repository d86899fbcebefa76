"""Live SLA state: evaluating a ticket after a change, rebuilding it, firing warnings/breaches.

One function computes everything, :func:`evaluate_ticket`: it picks the policy that matches
the ticket now (recording a change of policy as an ``SlaPolicy`` audit event), replays the
ticket's audit events through the metric state machines (``engine.replay``) and stores the
result: one ``SlaMetricState`` row per metric, Zendesk's ``TicketMetricEvent`` rows, and the
ticket's ``TicketMetricSet``. The ticket hook, the scheduler, policy changes and the
``kefu sla rebuild`` command all call it.

Audit events without a ticket change (policy applied by the re-evaluation task, warnings,
breaches) are written by :func:`write_sla_events` — the one place this app writes to a
ticket's history. They do not run the ticket hooks (nothing about the ticket changed).
"""

import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from kefu.core import clock
from kefu.core.conditions import BoundConditions, bind
from kefu.tickets import hooks
from kefu.tickets.actions.audit import AuditWriter
from kefu.tickets.choices import Channel
from kefu.tickets.conditions import ticket_conditions
from kefu.tickets.models import Audit, AuditEvent, Ticket

from .. import business_time, fastread
from ..choices import AUDIT_BREACH, AUDIT_POLICY, AUDIT_WARNING, Stage
from ..engine import Moment, PolicyInfo, Replay, Target, replay
from ..models import (
    SlaMetricState,
    SlaTicketState,
    TicketMetricEvent,
    TicketMetricSet,
)
from ..ticket_metrics import TicketMetrics, compute
from .schedules import compiled_by_id

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
    import json

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


def _policies() -> list[_Policy]:
    import json

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
        for pk, title, description, warning, filter_, metrics in fastread.policies()
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


# --- Writing SLA events into the ticket's history -----------------------------------------------


def write_sla_events(
    ticket: Ticket,
    events: Iterable[tuple[str, str, Any, Any]],
    *,
    audit: Audit | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Add SLA audit events ``(type, field_name, value, previous_value)`` to ``audit`` (the
    change being made) or to a new audit by the system. The caller holds the transaction."""
    events = list(events)
    if not events:
        return
    if audit is not None:
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(audit=audit, type=t, field_name=f, value=v, previous_value=p)
                for t, f, v, p in events
            ]
        )
        return
    writer = AuditWriter(
        ticket,
        author=None,
        via_channel=Channel.SYSTEM,
        via_source={"rel": "sla"},
        created_at=at or clock.now(),
    )
    for type_, field_name, value, previous in events:
        writer.other(type_, field_name=field_name, value=value, previous_value=previous)
    writer.save()


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
    does). Runs in the caller's transaction; cheap enough for every ticket update."""
    now = now or clock.now()
    if ticket.deleted_at is not None:
        SlaMetricState.objects.filter(ticket=ticket).delete()
        return None
    policies = _policies()
    context = fastread.ticket_context(ticket.pk, ticket.group_id)
    moments = fastread.moments(ticket.pk)
    if not moments:
        return None  # an imported ticket without history
    recorded = next((m.policy_id for m in reversed(moments) if m.policy_set), None)
    matched = matching_policy(ticket, policies, now)
    if matched != recorded:
        write_sla_events(
            ticket,
            [
                (
                    AUDIT_POLICY,
                    "sla_policy",
                    _policy_ref(policies, matched),
                    _policy_ref(policies, recorded),
                )
            ],
            audit=audit,
            at=now,
        )
        moments = _with_policy(moments, matched, audit, now)
    schedule = compiled_by_id(context.schedule_id, context.revision)
    result = replay(
        moments, policies={p.info.id: p.info for p in policies}, schedule=schedule, now=now
    )
    next_breach_at, breached = next_breach(result)
    if not context.has_state:
        SlaTicketState.objects.create(
            ticket=ticket,
            policy_id=matched,
            next_breach_at=next_breach_at,
            breached=breached,
            updated_at=now,
        )
    elif (context.policy_id, context.next_breach_at, context.breached) != (
        matched,
        next_breach_at,
        breached,
    ):
        SlaTicketState.objects.filter(ticket=ticket).update(
            policy_id=matched, next_breach_at=next_breach_at, breached=breached, updated_at=now
        )
    _store_states(ticket, result, now)
    _store_metric_events(ticket, result)
    _store_ticket_metrics(ticket, compute(moments, schedule=schedule), now)
    return result


def next_breach(result: Replay) -> tuple[dt.datetime | None, bool]:
    """The earliest deadline still to meet (active, or breached and not fulfilled) and
    whether one of those is breached — ``SlaTicketState.next_breach_at`` / ``breached``."""
    pending = [
        state
        for state in result.states.values()
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


def _store_states(ticket: Ticket, result: Replay, now: dt.datetime) -> None:
    existing = fastread.metric_states(ticket.pk)
    stale = [row["id"] for metric, row in existing.items() if metric not in result.states]
    if stale:
        SlaMetricState.objects.filter(pk__in=stale).delete()
    for metric, state in result.states.items():
        values = {name: getattr(state, name) for name in _STATE_FIELDS}
        row = existing.get(metric)
        if row is None:
            SlaMetricState.objects.create(ticket=ticket, metric=metric, updated_at=now, **values)
            continue
        changed = {name: value for name, value in values.items() if row[name] != value}
        if not changed:
            continue
        # A new deadline (or a new instance) gets its own warning and breach events.
        if "breach_at" in changed or "instance_id" in changed:
            changed["breach_recorded_at"] = None
        if "warn_at" in changed or "instance_id" in changed:
            changed["warned_at"] = None
        SlaMetricState.objects.filter(pk=row["id"]).update(updated_at=now, **changed)


def _store_metric_events(ticket: Ticket, result: Replay) -> None:
    existing = fastread.metric_event_keys(ticket.pk)
    new = [
        TicketMetricEvent(
            ticket=ticket,
            metric=e.metric,
            instance_id=e.instance_id,
            type=e.type,
            time=e.time,
            sla=e.sla,
            status=e.status,
        )
        for e in result.events
        if (e.metric, e.instance_id, e.type, e.time) not in existing
    ]
    if new:
        TicketMetricEvent.objects.bulk_create(new, ignore_conflicts=True)


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


def _store_ticket_metrics(ticket: Ticket, metrics: TicketMetrics, now: dt.datetime) -> None:
    values: dict[str, Any] = {name: getattr(metrics, name) for name in _METRIC_PLAIN}
    for name in _METRIC_PAIRS:
        pair = getattr(metrics, name)
        values[f"{name}_calendar"] = pair.calendar if pair else None
        values[f"{name}_business"] = pair.business if pair else None
    values["requester_updated_at"] = ticket.requester_updated_at
    values["assignee_updated_at"] = ticket.assignee_updated_at
    values["created_at"] = metrics.created_at or ticket.created_at
    row = fastread.metric_set(ticket.pk, tuple(values))
    if row is None:
        TicketMetricSet.objects.create(ticket=ticket, updated_at=now, **values)
        return
    changed = {name: value for name, value in values.items() if row[name] != value}
    if changed:
        TicketMetricSet.objects.filter(pk=row["id"]).update(updated_at=now, **changed)


# --- The ticket hook ------------------------------------------------------------------------


def on_ticket_change(change: hooks.TicketChange) -> None:
    """``sla.evaluate`` (order 200): after triggers, on the outermost change only, so the
    changes triggers made are included and the ticket is evaluated once per update."""
    if change.depth != 0:
        return
    ticket = Ticket.objects.get(pk=change.ticket.pk)  # triggers may have changed it since
    evaluate_ticket(ticket, audit=change.audit)


# --- Rebuild and re-evaluate in batches -------------------------------------------------------


def reevaluate_tickets(
    *, open_only: bool = True, batch_size: int = 500, progress: Any = None
) -> int:
    """Evaluate every (open) ticket again, in batches of one transaction each; after a policy
    or schedule change, and for ``kefu sla rebuild``. ``progress(done, total)`` is called
    after each batch. Idempotent: running it twice changes nothing the second time."""
    tickets = Ticket.objects.filter(deleted_at__isnull=True)
    if open_only:
        tickets = tickets.exclude(status__in=("solved", "closed"))
    ids = list(tickets.order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        with transaction.atomic():
            for ticket in Ticket.objects.filter(pk__in=chunk).order_by("pk"):
                evaluate_ticket(ticket)
        done += len(chunk)
        if progress is not None:
            progress(done, len(ids))
    return done


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

    Reads only rows whose ``warn_at``/``breach_at`` has come and whose event is not written
    yet (partial indexes). Each row is claimed with a conditional UPDATE, so two schedulers
    never write the same event. Returns how many events were written."""
    now = now or clock.now()
    written = 0
    due_breaches = list(
        SlaMetricState.objects.filter(breach_recorded_at__isnull=True, breach_at__lte=now)
        .order_by("breach_at")
        .values_list("pk", "breach_at")[:batch_size]
    )
    for pk, breach_at in due_breaches:
        with transaction.atomic():
            claimed = SlaMetricState.objects.filter(
                pk=pk, breach_recorded_at__isnull=True, breach_at=breach_at
            ).update(breach_recorded_at=now)
            if not claimed:
                continue
            row = SlaMetricState.objects.get(pk=pk)
            # The ticket's row lock: an update of the same ticket evaluates after us.
            ticket = Ticket.objects.select_for_update().get(pk=row.ticket_id)
            write_sla_events(ticket, [(AUDIT_BREACH, row.metric, _event_value(row), None)], at=now)
            evaluate_ticket(ticket, now=now)
            written += 1
    due_warnings = list(
        SlaMetricState.objects.filter(warned_at__isnull=True, warn_at__lte=now)
        .order_by("warn_at")
        .values_list("pk", "warn_at")[:batch_size]
    )
    for pk, warn_at in due_warnings:
        with transaction.atomic():
            claimed = SlaMetricState.objects.filter(
                pk=pk, warned_at__isnull=True, warn_at=warn_at
            ).update(warned_at=now)
            if not claimed:
                continue
            row = SlaMetricState.objects.select_related("ticket").get(pk=pk)
            if row.stage != Stage.ACTIVE:
                continue
            write_sla_events(
                row.ticket, [(AUDIT_WARNING, row.metric, _event_value(row), None)], at=now
            )
            written += 1
    return written


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
