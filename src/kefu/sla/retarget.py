"""Judging a ticket's SLA again after a change of targets, without replaying its history.

A change of a policy's targets (or warning time) changes no ticket's history: each metric's
instances — when they ran, paused, were fulfilled — stay what they were; only their judgement
against the target moves (``engine.judge``). So the full evaluation stores, beside each metric's
state, the spans its latest instance counted (``SlaMetricState.segments``), and on the ticket a
*fingerprint* of everything else the judgement depends on (``SlaTicketState.fast_key``): how
many audit events the ticket had, the schedule and its revision, the policy, the priority, which
metrics the policy targets for that priority and which extra metrics it exports.

The re-evaluation after a policy change then judges the stored latest instances against the
new targets — the same ``engine.judge`` the replay calls — when the fingerprint rebuilt from
today's data equals the stored one. Anything else takes the full replay: a new audit event
(the ticket changed, or a warning was recorded), another schedule or revision, another
matching policy, a policy that now targets other metrics (new ``apply_sla`` events), and
tickets whose result depends on more than the latest instances (a targeted metric that ran
more than once, earlier policies or priorities: their breach events depend on targets too).
The fingerprint is ``""`` for those.

Pure: no database. ``tests/sla/test_retarget.py`` checks it against the full replay.
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .business_time import Schedule
from .engine import (
    ALWAYS_EXPORTED,
    METRICS,
    Instance,
    MetricState,
    PolicyInfo,
    Replay,
    Target,
    judge,
)

VERSION = "r1"


# (id of a PolicyInfo, priority) -> (that PolicyInfo, its part of the key, its targets in
# METRICS order). Policies are immutable and cached per process (``live._load_policy``); a key
# is checked per ticket.
_TAILS: dict[tuple[int, str | None], tuple[PolicyInfo, str, tuple[tuple[str, Target], ...]]] = {}


def _part(policy: PolicyInfo, priority: str | None) -> tuple[str, tuple[tuple[str, Target], ...]]:
    hit = _TAILS.get((id(policy), priority))
    if hit is not None and hit[0] is policy:
        return hit[1], hit[2]
    targets = tuple(
        (m, target) for m in METRICS if (target := policy.target(m, priority)) is not None
    )
    targeted = "".join(
        str(index) for index, m in enumerate(METRICS) if policy.target(m, priority) is not None
    )
    exported = "".join(
        str(index)
        for index, m in enumerate(METRICS)
        if m not in ALWAYS_EXPORTED and policy.has_metric(m)
    )
    tail = f"{policy.id}|{priority or ''}|{targeted}|{exported}"
    if len(_TAILS) > 4096:
        _TAILS.clear()
    _TAILS[(id(policy), priority)] = (policy, tail, targets)
    return tail, targets


def _tail(policy: PolicyInfo, priority: str | None) -> str:
    return _part(policy, priority)[0]


def _key(audits: int, schedule_key: str, policy: PolicyInfo, priority: str | None) -> str:
    return f"{VERSION}|{audits}|{schedule_key}|{_tail(policy, priority)}"


def fingerprint(
    result: Replay, policies: Mapping[int, PolicyInfo], *, audits: int, schedule_key: str
) -> str:
    """The fingerprint to store after a full replay (``""``: always replay this ticket).

    ``audits``: how many audit events the ticket has once this evaluation is written;
    ``schedule_key``: the schedule's id and revision."""
    policy = policies.get(result.policy_id) if result.policy_id is not None else None
    if policy is None:
        return ""
    current = (result.policy_id, result.priority)
    for _at, policy_id, priority in result.applied:
        if policy_id is not None and (policy_id, priority) != current:
            return ""
    for metric in METRICS:
        if policy.target(metric, result.priority) is None:
            continue
        instances = result.instances[metric]
        if len(instances) > 1 or (instances and instances[0].final not in (None, current)):
            return ""
    return _key(audits, schedule_key, policy, result.priority)


def encode_segments(segments: list[tuple[dt.datetime, dt.datetime | None]]) -> str:
    """The spans of an instance as text: ``start/end`` (end empty while running), ``;``-joined."""
    return ";".join(
        f"{start.isoformat()}/{end.isoformat() if end is not None else ''}"
        for start, end in segments
    )


def decode_segments(text: str) -> list[tuple[dt.datetime, dt.datetime | None]]:
    result: list[tuple[dt.datetime, dt.datetime | None]] = []
    for item in text.split(";"):
        start, _, end = item.partition("/")
        result.append(
            (dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end) if end else None)
        )
    return result


def rejudge(
    key: str,
    *,
    policy: PolicyInfo,
    audits: int,
    schedule_key: str,
    rows: Mapping[str, Mapping[str, Any]],
    schedule: Schedule,
    now: dt.datetime,
) -> tuple[dict[str, MetricState], list[tuple[str, int, dt.datetime]]] | None:
    """The metric states and the breach events ``(metric, instance number, time)`` the full
    replay would give against ``policy``'s targets now, from the stored ``rows`` (metric ->
    SlaMetricState values); None when the fingerprint ``key`` says to replay instead."""
    if not key:
        return None
    priority = key.split("|", 5)[4] or None
    tail, targets = _part(policy, priority)
    if key != f"{VERSION}|{audits}|{schedule_key}|{tail}":
        return None
    states: dict[str, MetricState] = {}
    breaches: list[tuple[str, int, dt.datetime]] = []
    targeted = 0
    for metric, target in targets:
        row = rows.get(metric)
        if row is None:
            continue
        targeted += 1
        if not row["segments"] or row["instance_id"] != 1:
            return None
        instance = Instance(
            metric=metric,
            number=1,
            started_at=row["started_at"],
            segments=decode_segments(row["segments"]),
            fulfilled_at=row["fulfilled_at"],
        )
        breach, state = judge(
            instance, policy=policy, target=target, schedule=schedule, now=now, latest=True
        )
        if breach is not None:
            breaches.append((metric, 1, breach))
        if state is not None:
            states[metric] = state
    if targeted != len(rows):
        return None  # a stored metric the policy no longer targets: replay (deletes it)
    return states, breaches
