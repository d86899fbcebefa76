"""The SLA metric state machines, replayed over a ticket's history. Pure: no database.

``fastread.moments`` turns a ticket's audit events into :class:`Moment` objects; :func:`replay`
walks them in order and returns every metric's instances (when each ran, paused, was
fulfilled), the live state of each metric and Zendesk's ticket metric events. The live hook,
the scheduler and the ``rebuild`` command all call this one function, so a ticket's SLA state
can always be recomputed from its audit events.

The metrics, exactly as Zendesk defines them (docs/sla.md has a timeline picture of each):

* ``first_reply_time``: creation -> the first public comment by an agent. A ticket an agent
  opens with a public comment has it fulfilled at creation.
* ``next_reply_time``: the oldest end-user public comment not yet answered -> the next public
  agent comment. Starts only after the first reply (the first comment is first reply's).
* ``periodic_update_time``: public agent comment -> the next public agent comment; never pauses.
* ``pausable_update_time``: the same, but paused while the ticket is pending or on-hold.
* ``requester_wait_time``: time in new, open and on-hold (paused in pending), until solved.
* ``agent_work_time``: time in new and open (paused in pending and on-hold), until solved.
* ``total_resolution_time``: creation -> solved; never pauses; a reopened ticket continues
  counting from creation (time spent solved included).

Solving (or closing) a ticket fulfills every running or paused metric; reopening resumes
requester wait, agent work and total resolution time. Internal notes count for nothing.
"""

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .business_time import (
    Schedule,
    add_business_time,
    business_time_between,
)
from .choices import MetricEventType, Stage

END_USER = "end_user"
AGENT = "agent"

ACTIVE_STATUSES = ("new", "open", "pending", "hold")
DONE_STATUSES = ("solved", "closed")

FIRST = "first_reply_time"
NEXT = "next_reply_time"
PERIODIC = "periodic_update_time"
PAUSABLE = "pausable_update_time"
REQUESTER_WAIT = "requester_wait_time"
AGENT_WORK = "agent_work_time"
TOTAL_RESOLUTION = "total_resolution_time"
METRICS = (FIRST, NEXT, PERIODIC, PAUSABLE, REQUESTER_WAIT, AGENT_WORK, TOTAL_RESOLUTION)
# Metrics whose lifecycle events are exported even without a target (as Zendesk does).
ALWAYS_EXPORTED = (FIRST, NEXT, REQUESTER_WAIT, AGENT_WORK)


def _runs_in(metric: str, status: str) -> bool:
    """Whether ``metric``'s clock runs while the ticket is in ``status``."""
    if metric == REQUESTER_WAIT:
        return status in ("new", "open", "hold")
    if metric in (AGENT_WORK, PAUSABLE):
        return status in ("new", "open")
    return status in ACTIVE_STATUSES


@dataclass(frozen=True)
class Moment:
    """What one audit did, as far as SLAs and ticket metrics care."""

    time: dt.datetime
    audit_id: int | None = None
    created: bool = False
    status: str | None = None  # the status this audit set (or created with)
    comment: str | None = None  # AGENT / END_USER: who wrote a public comment in it
    private_comment: bool = False
    priority_set: bool = False
    priority: str | None = None
    group_set: bool = False
    group_id: int | None = None
    assignee_set: bool = False
    assignee_id: int | None = None
    policy_set: bool = False
    policy_id: int | None = None


@dataclass(frozen=True)
class Target:
    minutes: float
    business_hours: bool

    @functools.cached_property
    def limit(self) -> dt.timedelta:
        """The target as a duration (built once: ``timedelta(minutes=...)`` is costly)."""
        return dt.timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class PolicyInfo:
    """What the engine needs of an SLA policy."""

    id: int
    title: str
    description: str
    warning_minutes: int
    targets: Mapping[tuple[str, str], Target]  # (metric, priority) -> target

    def target(self, metric: str, priority: str | None) -> Target | None:
        if priority is None:
            return None  # as in Zendesk: a ticket without priority gets no SLA targets
        return self.targets.get((metric, priority))

    def has_metric(self, metric: str) -> bool:
        return any(key[0] == metric for key in self.targets)

    def ref(self) -> dict:
        return {"id": self.id, "title": self.title, "description": self.description}

    @functools.cached_property
    def warning(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.warning_minutes)


@dataclass
class Instance:
    """One run of a metric: from activation to fulfilment, with the spans it counted."""

    metric: str
    number: int
    started_at: dt.datetime
    segments: list[tuple[dt.datetime, dt.datetime | None]] = field(default_factory=list)
    fulfilled_at: dt.datetime | None = None
    # (policy id, priority) in force when it was fulfilled (None while live).
    final: tuple[int | None, str | None] | None = None
    events: list[tuple[str, dt.datetime]] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return bool(self.segments) and self.segments[-1][1] is None

    @property
    def live(self) -> bool:
        return self.fulfilled_at is None

    def run(self, at: dt.datetime) -> None:
        if not self.running:
            self.segments.append((at, None))
            self.events.append((MetricEventType.ACTIVATE, at))

    def pause(self, at: dt.datetime) -> None:
        if self.running:
            self.segments[-1] = (self.segments[-1][0], at)
            self.events.append((MetricEventType.PAUSE, at))

    def fulfill(self, at: dt.datetime, final: tuple[int | None, str | None]) -> None:
        if self.running:
            self.segments[-1] = (self.segments[-1][0], at)
        self.fulfilled_at = at
        self.final = final
        self.events.append((MetricEventType.FULFILL, at))

    def reopen(self, at: dt.datetime, *, count_gap: bool) -> None:
        """Live again after a solve; ``count_gap``: the solved time counts (total resolution)."""
        if self.fulfilled_at is None:
            return
        if count_gap:
            self.segments.append((self.fulfilled_at, at))
        self.fulfilled_at = None
        self.final = None

    def elapsed(self, schedule: Schedule, until: dt.datetime) -> dt.timedelta:
        total = dt.timedelta(0)
        for start, end in self.segments:
            total += business_time_between(schedule, start, end or until)
        return total

    def closed_elapsed(self, schedule: Schedule) -> dt.timedelta:
        """Time counted in the spans that have ended."""
        total = _ZERO
        for start, end in self.segments:
            if end is not None:
                total += business_time_between(schedule, start, end)
        return total

    def breach_moment(self, schedule: Schedule, target: dt.timedelta) -> dt.datetime | None:
        """When the counted time reaches ``target`` (in the future for a running clock)."""
        counted = _ZERO
        for start, end in self.segments:
            if end is None:
                return add_business_time(schedule, start, max(target - counted, _ZERO))
            span = business_time_between(schedule, start, end)
            if counted + span > target:
                return add_business_time(schedule, start, target - counted)
            counted += span
        return None


@dataclass
class MetricState:
    """The live state of a metric (its latest instance) under the current policy."""

    metric: str
    instance_id: int
    policy_id: int
    stage: str
    target_minutes: float
    business_hours: bool
    started_at: dt.datetime
    resumed_at: dt.datetime | None
    elapsed_minutes: float
    breach_at: dt.datetime | None
    warn_at: dt.datetime | None
    fulfilled_at: dt.datetime | None


@dataclass(frozen=True)
class MetricEvent:
    """Zendesk's ticket metric event (metric and instance in Zendesk's numbering)."""

    metric: str
    instance_id: int
    type: str
    time: dt.datetime
    sla: dict | None = None
    status: dict | None = None


@dataclass
class Replay:
    instances: dict[str, list[Instance]]
    states: dict[str, MetricState]
    events: list[MetricEvent]
    policy_id: int | None
    priority: str | None
    status: str | None
    # (time, policy id, priority) each time the policy or priority was set (and at creation).
    applied: list[tuple[dt.datetime, int | None, str | None]] = field(default_factory=list)


def zendesk_name(metric: str, number: int) -> tuple[str, int]:
    """Zendesk's (metric, instance id) of the engine's instance ``number`` of ``metric``."""
    if metric == FIRST:
        return "reply_time", 1
    if metric == NEXT:
        return "reply_time", number + 1
    if metric == TOTAL_RESOLUTION:
        return "resolution_time", number
    return metric, number


def _minutes(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 60


class _Machine:
    def __init__(self) -> None:
        self.instances: dict[str, list[Instance]] = {metric: [] for metric in METRICS}
        self.status: str | None = None
        self.priority: str | None = None
        self.policy_id: int | None = None
        self.first_reply_done = False
        self.applied: list[tuple[dt.datetime, int | None, str | None]] = []

    def latest(self, metric: str) -> Instance | None:
        runs = self.instances[metric]
        return runs[-1] if runs else None

    def live(self, metric: str) -> Instance | None:
        instance = self.latest(metric)
        return instance if instance is not None and instance.live else None

    def start(self, metric: str, at: dt.datetime, *, running: bool = True) -> Instance:
        instance = Instance(metric=metric, number=len(self.instances[metric]) + 1, started_at=at)
        self.instances[metric].append(instance)
        if running:
            instance.run(at)
        return instance

    def fulfill(self, metric: str, at: dt.datetime) -> None:
        instance = self.live(metric)
        if instance is not None:
            instance.fulfill(at, (self.policy_id, self.priority))

    def step(self, moment: Moment) -> None:
        t = moment.time
        if moment.policy_set:
            self.policy_id = moment.policy_id
        if moment.priority_set:
            self.priority = moment.priority
        if moment.policy_set or moment.priority_set or moment.created:
            self.applied.append((t, self.policy_id, self.priority))
        if moment.created:
            self._create(moment)
            return
        if moment.comment == END_USER:
            if self.first_reply_done and self.live(NEXT) is None:
                self.start(NEXT, t)
        elif moment.comment == AGENT:
            self.fulfill(FIRST, t)
            self.first_reply_done = True
            self.fulfill(NEXT, t)
            self.fulfill(PERIODIC, t)
            self.start(PERIODIC, t)
            self.fulfill(PAUSABLE, t)
            self.start(PAUSABLE, t, running=_runs_in(PAUSABLE, self.status or "open"))
        if moment.status is not None and moment.status != self.status:
            self._status(moment.status, t)

    def _create(self, moment: Moment) -> None:
        t = moment.time
        self.status = moment.status or "new"
        if moment.comment == AGENT:
            self.start(FIRST, t).fulfill(t, (self.policy_id, self.priority))
            self.first_reply_done = True
            self.start(PERIODIC, t)
            self.start(PAUSABLE, t, running=_runs_in(PAUSABLE, self.status))
        else:
            self.start(FIRST, t)
        for metric in (REQUESTER_WAIT, AGENT_WORK):
            instance = self.start(metric, t, running=_runs_in(metric, self.status))
            if not instance.running:
                instance.events.append((MetricEventType.ACTIVATE, t))
                instance.events.append((MetricEventType.PAUSE, t))
        self.start(TOTAL_RESOLUTION, t)
        if self.status in DONE_STATUSES:
            self._solve(t)

    def _solve(self, t: dt.datetime) -> None:
        self.first_reply_done = True
        for metric in METRICS:
            self.fulfill(metric, t)

    def _status(self, new: str, t: dt.datetime) -> None:
        previous, self.status = self.status, new
        if new in DONE_STATUSES:
            if previous not in DONE_STATUSES:
                self._solve(t)
            return
        if previous in DONE_STATUSES:  # reopened
            for metric in (REQUESTER_WAIT, AGENT_WORK, TOTAL_RESOLUTION):
                instance = self.latest(metric)
                if instance is not None:
                    instance.reopen(t, count_gap=metric == TOTAL_RESOLUTION)
        for metric in (REQUESTER_WAIT, AGENT_WORK, PAUSABLE, TOTAL_RESOLUTION):
            instance = self.live(metric)
            if instance is None:
                continue
            if _runs_in(metric, new):
                instance.run(t)
            else:
                instance.pause(t)


_ZERO = dt.timedelta(0)


@functools.cache
def _calendar() -> Schedule:
    return Schedule.calendar()


def replay(
    moments: Sequence[Moment],
    *,
    policies: Mapping[int, PolicyInfo],
    schedule: Schedule,
    now: dt.datetime,
) -> Replay:
    """Replay ``moments`` (oldest first) and judge each metric against its policy target.

    ``policies`` resolves the policy ids the moments name (a deleted policy counts as none);
    ``schedule`` is the ticket's business hours; ``now`` bounds running clocks and decides
    which breaches have happened."""
    machine = _Machine()
    for moment in moments:
        machine.step(moment)
    calendar = _calendar()
    states: dict[str, MetricState] = {}
    events: list[MetricEvent] = []
    current = policies.get(machine.policy_id) if machine.policy_id is not None else None

    for metric in METRICS:
        for instance in machine.instances[metric]:
            key = instance.final or (machine.policy_id, machine.priority)
            policy = policies.get(key[0]) if key[0] is not None else None
            target = policy.target(metric, key[1]) if policy is not None else None
            exported = metric in ALWAYS_EXPORTED or (
                current is not None and current.has_metric(metric)
            )
            name, number = zendesk_name(metric, instance.number)
            if exported:
                for kind, at in instance.events:
                    events.append(MetricEvent(name, number, kind, at))
                    if kind == MetricEventType.FULFILL:
                        events.append(
                            MetricEvent(
                                name,
                                number,
                                MetricEventType.UPDATE_STATUS,
                                at,
                                status={
                                    "calendar": round(_minutes(instance.elapsed(calendar, at))),
                                    "business": round(_minutes(instance.elapsed(schedule, at))),
                                },
                            )
                        )
            if target is None or policy is None:
                continue
            latest = instance is machine.instances[metric][-1]
            breach, state = judge(
                instance, policy=policy, target=target, schedule=schedule, now=now, latest=latest
            )
            if breach is not None:
                events.append(MetricEvent(name, number, MetricEventType.BREACH, breach))
            if state is not None:
                states[metric] = state

    # apply_sla: each time the policy or priority gave a metric a (new) target.
    for at, policy_id, priority in machine.applied:
        policy = policies.get(policy_id) if policy_id is not None else None
        if policy is None:
            continue
        for metric in METRICS:
            target = policy.target(metric, priority)
            if target is None:
                continue
            applied_to = next(
                (i for i in reversed(machine.instances[metric]) if i.started_at <= at), None
            )
            name, number = zendesk_name(metric, applied_to.number if applied_to else 1)
            events.append(
                MetricEvent(
                    name,
                    number,
                    MetricEventType.APPLY_SLA,
                    at,
                    sla={
                        "target": target.minutes,
                        "business_hours": target.business_hours,
                        "policy": policy.ref(),
                    },
                )
            )
    events = [event for event in events if event.time <= now]
    events.sort(key=lambda e: (e.time, e.metric, e.instance_id, e.type))
    return Replay(
        instances=machine.instances,
        states=states,
        events=_dedupe(events),
        policy_id=machine.policy_id,
        priority=machine.priority,
        status=machine.status,
        applied=machine.applied,
    )


def judge(
    instance: Instance,
    *,
    policy: PolicyInfo,
    target: Target,
    schedule: Schedule,
    now: dt.datetime,
    latest: bool,
) -> tuple[dt.datetime | None, MetricState | None]:
    """Judge one instance of a metric against ``target``: the moment of its breach when it
    has breached (by ``now``, or before it was fulfilled), and — for the metric's ``latest``
    instance — its live state. ``replay`` calls it for every instance; the re-evaluation
    after a change of targets calls it on the stored latest instance (``live.py``)."""
    hours = schedule if target.business_hours else _calendar()
    limit = target.limit
    breach = instance.breach_moment(hours, limit)
    end = instance.fulfilled_at or now
    breached = breach is not None and (breach < end if instance.fulfilled_at else breach <= now)
    breach_event = breach if breached else None
    if not latest:
        return breach_event, None
    running = instance.running
    if instance.fulfilled_at is not None:
        stage = Stage.BREACHED if breached else Stage.ACHIEVED
    elif breached:
        stage = Stage.BREACHED
    else:
        stage = Stage.ACTIVE if running else Stage.PAUSED
    resumed_at = instance.segments[-1][0] if running else None
    elapsed = instance.closed_elapsed(hours)
    warn_at = None
    if running and policy.warning_minutes and not breached:
        lead = limit - elapsed - policy.warning
        if lead > _ZERO and resumed_at is not None:
            warn_at = add_business_time(hours, resumed_at, lead)
    state = MetricState(
        metric=instance.metric,
        instance_id=instance.number,
        policy_id=policy.id,
        stage=stage,
        target_minutes=target.minutes,
        business_hours=target.business_hours,
        started_at=instance.started_at,
        resumed_at=resumed_at,
        elapsed_minutes=_minutes(elapsed),
        breach_at=breach if (running or breached) else None,
        warn_at=warn_at,
        fulfilled_at=instance.fulfilled_at,
    )
    return breach_event, state


def _dedupe(events: list[MetricEvent]) -> list[MetricEvent]:
    seen: set[tuple] = set()
    result = []
    for event in events:
        key = (event.metric, event.instance_id, event.type, event.time)
        if key not in seen:
            seen.add(key)
            result.append(event)
    return result
