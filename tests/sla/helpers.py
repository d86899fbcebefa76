"""Shared helpers for the SLA tests: a China office schedule, a policy, ticket steps."""

import datetime as dt
from zoneinfo import ZoneInfo

from kefu.core import clock
from kefu.sla import actions as sla
from kefu.sla.models import Schedule, SlaMetricState, SlaPolicy
from kefu.tickets.actions import NewComment, TicketData, create_ticket, update_ticket
from kefu.tickets.models import Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
DAY = 24 * 60


def weekdays(start_hour: int, end_hour: int) -> list[dict[str, int]]:
    return [
        {"start_time": d * DAY + start_hour * 60, "end_time": d * DAY + end_hour * 60}
        for d in range(1, 6)
    ]


def office(zone: str = "Asia/Shanghai", start: int = 9, end: int = 18) -> Schedule:
    return sla.create_schedule(
        name="Office 办公时间", time_zone=zone, intervals=weekdays(start, end)
    )


def targets(priority: str, business: bool = True, **minutes: int) -> list[dict]:
    return [
        {"priority": priority, "metric": metric, "target": target, "business_hours": business}
        for metric, target in minutes.items()
    ]


def policy(priority: str = "normal", business: bool = True, **minutes: int) -> SlaPolicy:
    return sla.create_policy(
        title="Standard 标准",
        filter={"all": [], "any": []},
        policy_metrics=targets(priority, business, **minutes),
        warning_minutes=30,
    )


def local(zone: ZoneInfo, *parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=zone)  # type: ignore[misc]


def open_ticket(p, at: dt.datetime, priority: str = "normal") -> Ticket:  # type: ignore[no-untyped-def]
    with clock.frozen_at(at):
        return create_ticket(
            actor=p.bob,
            data=TicketData(subject="洗衣机漏水 / Washer leaks", priority=priority),
            comment=NewComment(body="It leaks."),
        )


def agent_reply(p, ticket: Ticket, at: dt.datetime, status: str | None = None) -> None:  # type: ignore[no-untyped-def]
    data = TicketData(status=status) if status else TicketData()
    with clock.frozen_at(at):
        update_ticket(ticket, actor=p.alice, data=data, comment=NewComment(body="On it."))


def customer_reply(p, ticket: Ticket, at: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    with clock.frozen_at(at):
        update_ticket(ticket, actor=p.bob, comment=NewComment(body="Still broken."))


def set_status(p, ticket: Ticket, at: dt.datetime, status: str) -> None:  # type: ignore[no-untyped-def]
    with clock.frozen_at(at):
        update_ticket(ticket, actor=p.alice, data=TicketData(status=status))


def metric(ticket: Ticket, name: str) -> SlaMetricState:
    return SlaMetricState.objects.get(ticket=ticket, metric=name)
