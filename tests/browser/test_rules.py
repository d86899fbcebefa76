"""The rule builder in Chromium: an admin builds a trigger from rows of selects (HTMX redraws
a row when its field changes), saves it, and the next ticket shows its effect."""

import re

from django.urls import reverse

from kefu.rules.models import Trigger
from kefu.tickets.models import Ticket
from tests.browser.conftest import expect, screenshot
from tests.browser.test_agent_workspace import sign_in


def htmx_idle(page):  # type: ignore[no-untyped-def]
    """Wait until HTMX has swapped *and processed* what the last action asked for: a row it
    just inserted only answers to ``change`` once it has settled (about 20 ms later), and a
    test that is faster than a person would otherwise select into a dead row."""
    busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"
    page.wait_for_function(f"() => !document.querySelector('{busy}')")


def test_admin_builds_a_refund_trigger_and_the_next_ticket_is_urgent(page, live_server, personas):
    # given: the admin on the new trigger page
    sign_in(page, live_server, personas.admin)
    page.goto(reverse("rules:new_trigger"))
    page.get_by_label("Title").fill("退款加急 Refunds are urgent")
    conditions = page.locator("#rows-all [data-testid=condition-row]")
    actions = page.locator("#rows-actions [data-testid=action-row]")

    # when: "ticket is created AND subject contains 退款 → priority urgent, add tag refund"
    conditions.nth(0).get_by_label("Field").select_option("update_type")
    htmx_idle(page)
    expect(conditions.nth(0).get_by_label("Operator")).to_be_visible()
    conditions.nth(0).get_by_label("Value").select_option(label="Created")
    page.get_by_role("button", name="Add an ALL condition").click()
    htmx_idle(page)
    expect(conditions).to_have_count(2)
    conditions.nth(1).get_by_label("Field").select_option("subject")
    htmx_idle(page)
    expect(conditions.nth(1).get_by_label("Operator")).to_be_visible()
    conditions.nth(1).get_by_label("Operator").select_option("includes")
    htmx_idle(page)
    expect(conditions.nth(1).get_by_label("Operator")).to_have_value("includes")
    conditions.nth(1).get_by_label("Value").fill("退款")
    actions.nth(0).get_by_label("Action").select_option("priority")
    htmx_idle(page)
    expect(actions.nth(0).get_by_label("Value")).to_be_visible()
    actions.nth(0).get_by_label("Value").select_option("urgent")
    page.get_by_role("button", name="Add an action").click()
    htmx_idle(page)
    expect(actions).to_have_count(2)
    actions.nth(1).get_by_label("Action").select_option("current_tags")
    htmx_idle(page)
    expect(actions.nth(1).get_by_label("Value")).to_be_visible()
    actions.nth(1).get_by_label("Value").fill("refund")
    actions.nth(1).get_by_role("button", name="Move action up").click()  # actions run in order
    expect(actions.nth(0).get_by_label("Action")).to_have_value("current_tags")
    screenshot(page, "admin-trigger-builder")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="退款加急 Refunds are urgent")).to_be_visible()
    assert Trigger.objects.get().actions == [
        {"field": "current_tags", "value": "refund"},
        {"field": "priority", "value": "urgent"},
    ]

    # then: a ticket about a refund, created in the agent UI, is urgent and tagged
    page.goto(reverse("tickets:new"))
    page.get_by_label("Requester email").fill("dora@newco.test")
    page.get_by_label("Requester name").fill("Dora 朵拉")
    page.get_by_label("Subject").fill("申请退款 Refund for order 42")
    page.get_by_label("Description").fill("耳机坏了，想退款。")
    page.get_by_role("button", name="Create ticket").click()
    expect(page.get_by_role("heading", name="申请退款 Refund for order 42")).to_be_visible()
    expect(page.get_by_label("Priority")).to_have_value("urgent")
    expect(page.get_by_label("Tags")).to_have_value(re.compile("refund"))
    screenshot(page, "ticket-after-refund-trigger")
    ticket = Ticket.objects.get(subject="申请退款 Refund for order 42")
    assert ticket.priority == "urgent"
    assert "refund" in ticket.tags

    # and the builder speaks the admin's language, showing the saved rows
    page.goto(reverse("rules:edit_trigger", args=[Trigger.objects.get().pk]))
    page.get_by_label("Language").select_option("zh-hans")
    expect(page.get_by_text("满足以下所有条件")).to_be_visible()
    first = page.locator("#rows-all [data-testid=condition-row]").nth(0)
    expect(first.get_by_label("字段")).to_have_value("update_type")
    expect(first.get_by_label("字段").locator("option:checked")).to_have_text("工单被创建或更新")
    screenshot(page, "admin-trigger-builder-zh-hans")
