"""``{% load sla %}{% sla_badges ticket %}``: the ticket's live SLA deadlines as badges
("回复剩余 23 分钟" / "Reply due in 23m"), red when breached. For the agent views to include."""

import datetime as dt
from typing import Any

from django import template
from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.sla.actions import time_left
from kefu.sla.choices import Stage
from kefu.sla.models import SlaMetricState
from kefu.tickets.models import Ticket

register = template.Library()

REPLY_METRICS = ("first_reply_time", "next_reply_time")
UPDATE_METRICS = ("periodic_update_time", "pausable_update_time")


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


def badges(ticket: Ticket, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The badges of ``ticket``: running or breached-and-unfulfilled metrics, soonest first."""
    now = now or clock.now()
    rows = SlaMetricState.objects.filter(
        ticket=ticket, stage__in=(Stage.ACTIVE, Stage.BREACHED), fulfilled_at__isnull=True
    ).select_related("ticket")
    result = []
    for row in rows:
        if row.breach_at is None:
            continue
        left = time_left(row, now=now)
        if row.stage == Stage.BREACHED or row.breach_at <= now:
            left = -((now - row.breach_at).total_seconds() / 60)
        if left is None:
            continue
        result.append(
            {
                "metric": row.metric,
                "breached": left < 0,
                "text": badge_text(row.metric, left=left),
                "breach_at": row.breach_at,
                "left": left,
            }
        )
    return sorted(result, key=lambda b: b["breach_at"])


@register.inclusion_tag("sla/partials/badges.html")
def sla_badges(ticket: Ticket) -> dict[str, Any]:
    return {"badges": badges(ticket)}
