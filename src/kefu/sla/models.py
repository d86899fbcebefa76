"""SLA tables: schedules (business hours, holidays, extra working days), policies, the live
state of each ticket's metrics, Zendesk's ticket metric events, and ticket metrics.

Everything here is data the actions in ``actions.py`` (admin data) and ``engine.py`` /
``live.py`` (derived state, rebuildable from the ticket's audit events) write.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core import clock
from kefu.core.ids import ObjectIdModel

from .choices import MetricEventType, Stage


def new_revision() -> str:
    return uuid.uuid4().hex


class Schedule(ObjectIdModel):
    """Business hours: a time zone, weekly intervals, holidays and extra working days.

    ``time_zone`` is what the admin gave (an IANA name or a Zendesk name); ``revision``
    changes whenever the schedule or any of its intervals/holidays changes (it keys the
    in-process cache of compiled schedules, in every process).
    """

    name = models.CharField(_("name"), max_length=255)
    time_zone = models.CharField(_("time zone"), max_length=100)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    revision = models.CharField(max_length=32, default=new_revision)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="sla_one_default_schedule",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ScheduleInterval(ObjectIdModel):
    """A weekly working interval in minutes from Sunday 00:00 (Zendesk's start/end_time)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="intervals")
    start_time = models.PositiveIntegerField()
    end_time = models.PositiveIntegerField()

    class Meta:
        ordering = ["start_time"]

    def __str__(self) -> str:
        return f"{self.start_time}-{self.end_time}"


class Holiday(ObjectIdModel):
    """Local dates without work, both ends included (Zendesk's schedule holidays)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="holidays")
    name = models.CharField(_("name"), max_length=255)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    # Where it came from: "" (typed by an admin), "chinese_calendar", "ical".
    source = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["start_date", "id"]
        indexes = [models.Index(fields=["schedule", "start_date"], name="sla_holiday_start")]

    def __str__(self) -> str:
        return self.name


class ExtraWorkday(ObjectIdModel):
    """A date that is worked although the weekly intervals say it is not (China's 调休).

    Its hours replace the weekly hours of that date: minutes from the date's midnight.
    """

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="extra_workdays")
    name = models.CharField(_("name"), max_length=255, blank=True)
    date = models.DateField(_("date"))
    start_time = models.PositiveIntegerField()
    end_time = models.PositiveIntegerField()
    source = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "date"], name="sla_extra_workday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class GroupSchedule(models.Model):
    """The schedule of a group's tickets (when there are several schedules)."""

    group = models.OneToOneField(
        "accounts.Group", on_delete=models.CASCADE, primary_key=True, related_name="sla_schedule"
    )
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.group_id} -> {self.schedule_id}"


class SlaPolicy(ObjectIdModel):
    """Zendesk's SLA policy: conditions (``filter``) and targets (``policy_metrics``).

    ``policy_metrics``: ``[{"priority", "metric", "target" (minutes), "business_hours"}]``.
    ``warning_minutes``: a warning event fires this many minutes (in the metric's own hours)
    before a breach; 0 turns warnings off.
    """

    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    position = models.IntegerField(default=0)
    filter = models.JSONField(default=dict)
    policy_metrics = models.JSONField(default=list)
    warning_minutes = models.PositiveIntegerField(default=30)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title

    def target(self, *, metric: str, priority: str | None) -> dict | None:
        for item in self.policy_metrics:
            if item["metric"] == metric and item["priority"] == priority:
                return item
        return None


class SlaTicketState(models.Model):
    """Per ticket: the policy that applies now and a schedule set by a trigger (override)."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, primary_key=True, related_name="sla_state"
    )
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    schedule_override = models.ForeignKey(
        Schedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept by the evaluation, for views and rules: the earliest ``breach_at`` of the metrics
    # still to be fulfilled (active, or breached and not yet fulfilled), and whether one of
    # them is breached. Views sort on it ("Next SLA breach") and filter "breaches within N
    # hours"; automations read "hours until next SLA breach".
    next_breach_at = models.DateTimeField(null=True, blank=True, db_index=True)
    breached = models.BooleanField(default=False)
    # What a change of targets needs to judge the ticket again without replaying its history
    # (``sla/retarget.py``): a fingerprint of the inputs other than the targets, written by
    # every full evaluation; "" means "replay" (also for rows older than the column).
    fast_key = models.TextField(blank=True, default="")
    # The scheduler's due time (``record_due_events``): the earliest ``breach_at`` / ``warn_at``
    # of the ticket's metric rows whose breach / warning event is not written yet; None when
    # there is none. Kept by every write of the metric rows. One index here instead of two on
    # the metric rows, so that moving a deadline rewrites a metric row in place (a "HOT"
    # update on PostgreSQL: no index entry) rather than one entry in each of four indexes.
    next_event_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_event_at"],
                name="sla_state_event_due",
                condition=models.Q(next_event_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"SLA of #{self.ticket_id}"


class SlaMetricState(models.Model):
    """The live state of one metric of one ticket (its latest instance).

    ``elapsed_minutes`` is the time counted before ``resumed_at`` (in the metric's hours);
    while active, time left = target - elapsed - hours between ``resumed_at`` and now.
    ``warned_at`` / ``breach_recorded_at`` mark that the scheduler wrote the warning / breach
    event for this ``breach_at`` (so each fires once).
    """

    # Only the unique key (ticket, metric) is indexed: it serves lookups by ticket, and no
    # other column is, so an UPDATE that moves a deadline is a HOT update on PostgreSQL (the
    # row rewritten in its page, no index entry; the table is kept half full for it,
    # migration 0007) — the re-evaluation after a policy change rewrites every open ticket's
    # rows. The scheduler finds due rows through ``SlaTicketState.next_event_at``; rows by
    # policy are only looked for when a policy is deleted (SET_NULL: one scan then).
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="sla_metrics", db_index=False
    )
    metric = models.CharField(max_length=40)
    instance_id = models.PositiveIntegerField(default=1)
    policy = models.ForeignKey(
        SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    stage = models.CharField(max_length=20, choices=Stage.choices)
    target_minutes = models.FloatField()
    business_hours = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    resumed_at = models.DateTimeField(null=True, blank=True)
    elapsed_minutes = models.FloatField(default=0)
    breach_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breach_recorded_at = models.DateTimeField(null=True, blank=True)
    # The spans the latest instance counted (``retarget.encode_segments``), so that a new
    # target can be judged without replaying the history; "" when not known yet.
    segments = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric"], name="sla_metric_state_unique")
        ]

    def __str__(self) -> str:
        return f"{self.metric} of #{self.ticket_id}: {self.stage}"


class TicketMetricEvent(ObjectIdModel):
    """Zendesk's ticket metric event (``incremental/ticket_metric_events``)."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="sla_metric_events"
    )
    metric = models.CharField(max_length=40)
    instance_id = models.PositiveIntegerField()
    type = models.CharField(max_length=20, choices=MetricEventType.choices)
    time = models.DateTimeField()
    sla = models.JSONField(null=True, blank=True)
    status = models.JSONField(null=True, blank=True)
    deleted = models.BooleanField(default=False)

    class Meta:
        ordering = ["time", "id"]
        indexes = [models.Index(fields=["time", "id"], name="sla_metric_event_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "metric", "instance_id", "type", "time"],
                name="sla_metric_event_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.metric} #{self.ticket_id}"


class TicketMetricSet(ObjectIdModel):
    """Zendesk's ticket metrics of one ticket, computed from its audit events.

    Durations are minutes, each in calendar and business hours (of the ticket's schedule).
    """

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="metric_set"
    )
    reopens = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    group_stations = models.PositiveIntegerField(default=0)
    assignee_stations = models.PositiveIntegerField(default=0)
    reply_time_calendar = models.IntegerField(null=True)
    reply_time_business = models.IntegerField(null=True)
    first_resolution_time_calendar = models.IntegerField(null=True)
    first_resolution_time_business = models.IntegerField(null=True)
    full_resolution_time_calendar = models.IntegerField(null=True)
    full_resolution_time_business = models.IntegerField(null=True)
    agent_wait_time_calendar = models.IntegerField(null=True)
    agent_wait_time_business = models.IntegerField(null=True)
    requester_wait_time_calendar = models.IntegerField(null=True)
    requester_wait_time_business = models.IntegerField(null=True)
    on_hold_time_calendar = models.IntegerField(null=True)
    on_hold_time_business = models.IntegerField(null=True)
    first_contact_resolution = models.BooleanField(default=False)
    assigned_at = models.DateTimeField(null=True)
    initially_assigned_at = models.DateTimeField(null=True)
    solved_at = models.DateTimeField(null=True)
    status_updated_at = models.DateTimeField(null=True)
    latest_comment_added_at = models.DateTimeField(null=True)
    requester_updated_at = models.DateTimeField(null=True)
    assignee_updated_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now, db_index=True)

    def __str__(self) -> str:
        return f"Metrics of #{self.ticket_id}"


class SlaReevaluation(models.Model):
    """One run of the background re-evaluation of open tickets (after a policy change), with
    its progress: the admin's policies page shows the latest one.

    A run after a policy change is split into chunks of ticket ids, one task each, so that
    several worker processes share it; while it runs, ``done`` is the chunks' summed
    (``progress.latest_run``), and ``finished_at`` is set when the last chunk finishes."""

    reason = models.CharField(max_length=255, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=clock.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The policy whose change started the run (its chunks take the tickets that change can
    # affect, ``policies.tickets_affected_by``); None: every open ticket.
    policy_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, int(100 * self.done / self.total))


class SlaReevaluationChunk(models.Model):
    """A share of a run: the tickets with ids from ``first_id`` to ``last_id`` (``tasks.
    reevaluate_chunk``), with its own progress (one row per chunk: the workers never wait
    for each other to record theirs)."""

    run = models.ForeignKey(SlaReevaluation, on_delete=models.CASCADE, related_name="chunks")
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["first_id"]

    def __str__(self) -> str:
        return f"{self.first_id}-{self.last_id}: {self.done}/{self.total}"
