"""Zendesk's ticket metrics of one ticket, computed from its history. Pure: no database.

Durations count only periods that have ended (a ticket open right now adds its current open
spell to requester wait time when it next changes status or is solved), so the values depend
on the history alone and a rebuild gives the same numbers.

* ``reply_time``: creation -> first public agent comment (0 when an agent opened the ticket
  with a public comment).
* ``first_resolution_time`` / ``full_resolution_time``: creation -> first / latest solve (full
  only while the ticket is solved or closed).
* ``agent_wait_time``: time in pending. ``requester_wait_time``: time in new, open and
  on-hold. ``on_hold_time``: time in on-hold.
* ``reopens``: solved -> open again. ``replies``: public agent comments after creation.
* ``group_stations`` / ``assignee_stations``: how many groups / assignees the ticket had.
* ``first_contact_resolution`` (Kefu): solved with exactly one public agent reply, never
  reopened.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from .business_time import Schedule, business_time_between
from .engine import AGENT, DONE_STATUSES, Moment


@dataclass
class Durations:
    calendar: int | None = None
    business: int | None = None


@dataclass
class TicketMetrics:
    reopens: int = 0
    replies: int = 0
    group_stations: int = 0
    assignee_stations: int = 0
    reply_time: Durations | None = None
    first_resolution_time: Durations | None = None
    full_resolution_time: Durations | None = None
    agent_wait_time: Durations | None = None
    requester_wait_time: Durations | None = None
    on_hold_time: Durations | None = None
    first_contact_resolution: bool = False
    assigned_at: dt.datetime | None = None
    initially_assigned_at: dt.datetime | None = None
    solved_at: dt.datetime | None = None
    status_updated_at: dt.datetime | None = None
    latest_comment_added_at: dt.datetime | None = None
    created_at: dt.datetime | None = None


def _span(schedule: Schedule, a: dt.datetime, b: dt.datetime) -> Durations:
    return Durations(
        calendar=round((b - a).total_seconds() / 60),
        business=round(business_time_between(schedule, a, b).total_seconds() / 60),
    )


def compute(moments: Sequence[Moment], *, schedule: Schedule) -> TicketMetrics:
    """The metrics of the ticket whose history is ``moments`` (oldest first)."""
    result = TicketMetrics()
    if not moments:
        return result
    created = moments[0].time
    result.created_at = created
    calendar = Schedule.calendar()
    in_status = {"pending": dt.timedelta(0), "hold": dt.timedelta(0), "waiting": dt.timedelta(0)}
    in_status_business = dict(in_status)
    status: str | None = None
    since = created
    group: int | None = None
    assignee: int | None = None
    first_reply: dt.datetime | None = None
    solves: list[dt.datetime] = []
    for moment in moments:
        t = moment.time
        if moment.comment is not None or moment.private_comment:
            result.latest_comment_added_at = t
        if moment.comment == AGENT:
            if moment.created:
                first_reply = first_reply or t
            else:
                result.replies += 1
                first_reply = first_reply or t
        if moment.group_set and moment.group_id is not None and moment.group_id != group:
            result.group_stations += 1
        if moment.group_set:
            group = moment.group_id
        if (
            moment.assignee_set
            and moment.assignee_id is not None
            and moment.assignee_id != assignee
        ):
            result.assignee_stations += 1
            result.assigned_at = t
            result.initially_assigned_at = result.initially_assigned_at or t
        if moment.assignee_set:
            assignee = moment.assignee_id
        new_status = moment.status
        if new_status is None or new_status == status:
            continue
        if status is not None:
            bucket = (
                "pending"
                if status == "pending"
                else "waiting"
                if status in ("new", "open", "hold")
                else None
            )
            if bucket is not None:
                in_status[bucket] += business_time_between(calendar, since, t)
                in_status_business[bucket] += business_time_between(schedule, since, t)
            if status == "hold":
                in_status["hold"] += business_time_between(calendar, since, t)
                in_status_business["hold"] += business_time_between(schedule, since, t)
            if status == "solved" and new_status not in DONE_STATUSES:
                result.reopens += 1
        if new_status == "solved":
            solves.append(t)
        status, since = new_status, t
        result.status_updated_at = t

    def minutes(delta: dt.timedelta) -> int:
        return round(delta.total_seconds() / 60)

    if first_reply is not None:
        result.reply_time = _span(schedule, created, first_reply)
    if solves:
        result.first_resolution_time = _span(schedule, created, solves[0])
        result.solved_at = solves[-1]
        if status in DONE_STATUSES:
            result.full_resolution_time = _span(schedule, created, solves[-1])
    result.agent_wait_time = Durations(
        minutes(in_status["pending"]), minutes(in_status_business["pending"])
    )
    result.requester_wait_time = Durations(
        minutes(in_status["waiting"]), minutes(in_status_business["waiting"])
    )
    result.on_hold_time = Durations(minutes(in_status["hold"]), minutes(in_status_business["hold"]))
    result.first_contact_resolution = (
        status in DONE_STATUSES and result.replies == 1 and result.reopens == 0
    )
    return result
