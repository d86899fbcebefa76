"""An SLA badge in Chromium: it counts down in the view list and on the ticket page, and
turns red after the scheduler records the breach. The clock is Kefu's (``kefu.core.clock``):
the live server runs in this process, so ``clock.frozen_at`` moves "now" for it too."""

import datetime as dt
import re
from typing import Any

from kefu.core import clock, scheduler
from kefu.sla import actions as sla
from kefu.sla.choices import AUDIT_BREACH
from kefu.sla.models import SlaPolicy
from kefu.tickets.actions import NewComment, TicketData, create_ticket, create_view
from kefu.tickets.models import AuditEvent
from tests.browser.conftest import expect, screenshot
from tests.browser.test_agent_workspace import UNSOLVED, sign_in

T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai


def test_an_sla_badge_counts_down_and_turns_red_after_the_scheduler_records_the_breach(
    page: Any, live_server: Any, personas: Any
) -> None:
    # given: a 30-minute first reply target for urgent tickets, and an urgent ticket
    sla.create_policy(
        title="紧急 Urgent",
        filter={"all": [], "any": []},
        policy_metrics=[
            {"priority": "urgent", "metric": "first_reply_time", "target": 30,
             "business_hours": False},
        ],
    )  # fmt: skip
    create_view(actor=personas.admin, title="未解决 Unsolved", conditions=UNSOLVED)
    with clock.frozen_at(T0):
        ticket = create_ticket(
            actor=personas.bob,
            data=TicketData(subject="服务器宕机 Server down", priority="urgent"),
            comment=NewComment(body="全部服务不可用 / everything is down"),
        )

    # when: 7 minutes later, the agent looks at the view and the ticket
    with clock.frozen_at(T0 + dt.timedelta(minutes=7)):
        sign_in(page, live_server, personas.alice)
        page.goto("/agent/")
        row = page.locator(f'tr[data-ticket-id="{ticket.pk}"]')
        badge = row.locator(".sla-badge")
        expect(badge).to_have_text("Reply due in 23m")
        expect(badge).not_to_have_class(re.compile("sla-badge--breached"))
        screenshot(page, "sla-badge-view-list")

        page.get_by_role("link", name="服务器宕机 Server down").click()
        header_badge = page.locator("[data-sla-badges] .sla-badge")
        expect(header_badge).to_have_text("Reply due in 23m")
        screenshot(page, "sla-badge-ticket-page")

    # when: the deadline passes and the scheduler's scan runs
    with clock.frozen_at(T0 + dt.timedelta(minutes=35)):
        scheduler.tick()
        assert AuditEvent.objects.filter(audit__ticket=ticket, type=AUDIT_BREACH).count() == 1
        page.reload()
        # then: the badge is red and says how late the reply is
        expect(header_badge).to_have_text("Reply overdue by 5m")
        expect(header_badge).to_have_class(re.compile("sla-badge--breached"))
        screenshot(page, "sla-badge-breached-ticket-page")

        page.goto("/agent/")
        expect(badge).to_have_text("Reply overdue by 5m")
        expect(badge).to_have_class(re.compile("sla-badge--breached"))
        screenshot(page, "sla-badge-breached-view-list")


def test_an_admin_creates_a_policy_from_the_targets_grid(
    page: Any, live_server: Any, personas: Any
) -> None:
    sign_in(page, live_server, personas.admin)
    page.goto("/agent/admin/sla/policies/new/")
    page.get_by_label("Title").fill("VIP 贵宾")
    page.get_by_label("First reply time, Urgent (minutes)").fill("30")
    page.get_by_label("Total resolution time, Urgent (minutes)").fill("0")
    page.get_by_role("button", name="Save").click()
    # then: the field is marked, nothing is saved
    expect(page.locator(".field__error").first).to_be_visible()
    screenshot(page, "sla-admin-policy-error")

    page.get_by_label("Total resolution time, Urgent (minutes)").fill("1440")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="VIP 贵宾")).to_be_visible()
    screenshot(page, "sla-admin-policies")
    policy = SlaPolicy.objects.get()
    assert {(m["metric"], m["target"]) for m in policy.policy_metrics} == {
        ("first_reply_time", 30),
        ("total_resolution_time", 1440),
    }


def test_an_admin_loads_china_holidays_and_sees_which_years_are_missing(
    page: Any, live_server: Any, personas: Any
) -> None:
    schedule = sla.create_schedule(
        name="上海办公室",
        time_zone="Asia/Shanghai",
        intervals=[
            {"start_time": d * 1440 + 540, "end_time": d * 1440 + 1080} for d in range(1, 6)
        ],
    )
    sign_in(page, live_server, personas.admin)
    with clock.frozen_at(dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)):
        page.goto(f"/agent/admin/sla/schedules/{schedule.pk}/")
        expect(page.get_by_label("2027 (not published in the installed data yet)")).to_be_visible()
        page.get_by_label("2027 (not published in the installed data yet)").check()
        page.get_by_role("button", name="Load China holidays").click()
        expect(page.get_by_text("No data for 2027 in the installed calendar")).to_be_visible()
        expect(page.get_by_role("cell", name="国庆节").first).to_be_visible()
        screenshot(page, "sla-admin-schedule-china-holidays")
