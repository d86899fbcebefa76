"""SLA badges: a ticket's deadlines still to meet, in words ("回复剩余 23 分钟" / "Reply due
in 23m"), red once breached. For one ticket (the ticket page) or a page of a list, always in
one query (``fastread.open_deadlines``): a view list never pays a query per row."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from kefu.core import clock

from . import business_time, fastread
from .actions.schedules import compiled_by_id
from .choices import Stage

REPLY_METRICS = ("first_reply_time", "next_reply_time")
UPDATE_METRICS = ("periodic_update_time", "pausable_update_time")


@dataclass(frozen=True)
class Badge:
    metric: str
    breached: bool
    text: str
    breach_at: dt.datetime
    left: float  # minutes, in the metric's own hours; negative: overdue


def duration(minutes: float) -> str:
    """23 -> "23m" / "23 分钟"; 125 -> "2h 5m"; 3000 -> "2d 2h"."""
    total = max(round(minutes), 0)
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)sd %(h)sh") % {"d": days, "h": hours}
    if hours:
        return _("%(h)sh %(m)sm") % {"h": hours, "m": mins}
    return _("%(m)sm") % {"m": mins}


def badge_text(metric: str, *, left: float) -> str:
    """What a badge says for ``metric`` with ``left`` minutes to go (negative: overdue)."""
    if metric in REPLY_METRICS:
        due, late = _("Reply due in %(time)s"), _("Reply overdue by %(time)s")
    elif metric in UPDATE_METRICS:
        due, late = _("Update due in %(time)s"), _("Update overdue by %(time)s")
    else:
        due, late = _("Resolution due in %(time)s"), _("Resolution overdue by %(time)s")
    return (due if left >= 0 else late) % {"time": duration(abs(left))}


def badges_for(
    ticket_ids: Iterable[int], *, now: dt.datetime | None = None
) -> dict[int, list[Badge]]:
    """{ticket id: its badges, soonest deadline first} — one query for all of them."""
    now = now or clock.now()
    result: dict[int, list[Badge]] = {}
    for (
        ticket_id,
        metric,
        stage,
        business,
        breach_at,
        schedule_id,
        revision,
    ) in fastread.open_deadlines(list(ticket_ids)):
        if stage == Stage.BREACHED or breach_at <= now:
            left = -((now - breach_at).total_seconds() / 60)
        elif business:
            schedule = compiled_by_id(schedule_id, revision)
            left = business_time.business_minutes_between(schedule, now, breach_at)
        else:
            left = (breach_at - now).total_seconds() / 60
        badge = Badge(
            metric=metric,
            breached=left < 0,
            text=badge_text(metric, left=left),
            breach_at=breach_at,
            left=left,
        )
        result.setdefault(ticket_id, []).append(badge)
    for items in result.values():
        items.sort(key=lambda b: (b.breach_at, b.metric))
    return result
