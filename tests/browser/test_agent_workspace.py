"""The agent workspace in Chromium: sign in, open a view, reply and note, bulk update, macros,
the language switch. Screenshots of each screen go to test-output/screenshots/."""

import re
from typing import Any

from django.test import Client
from django.urls import NoReverseMatch, reverse

from kefu.accounts.models import User
from kefu.tickets.actions import (
    NewComment,
    TicketData,
    create_macro,
    create_ticket,
    create_view,
)
from kefu.tickets.models import Comment, Ticket
from tests.browser.conftest import expect, screenshot

UNSOLVED = {"all": [{"field": "status", "operator": "less_than", "value": "solved"}], "any": []}
PASSWORD = "correct horse 42"


def sign_in(page: Any, live_server: Any, user: User) -> None:
    """Through the sign-in page where it exists; otherwise with a session made for the user
    (the Django admin's sign-in only admits admins)."""
    try:
        login_url = reverse("accounts:login")
    except NoReverseMatch:
        client = Client()
        client.force_login(user)
        page.context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value,
              "url": live_server.url}]
        )  # fmt: skip
        return
    page.goto(login_url)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    # wait for the sign-in to land (waiting for "load" could still see the sign-in page)
    page.wait_for_url(re.compile(r"/agent/"))


def workspace(personas: Any) -> list[Ticket]:
    create_view(actor=personas.admin, title="未解决 Unsolved", conditions=UNSOLVED)
    subjects = ["打印机冒烟了 Printer smoking", "退货申请 Return request", "Invoice copy 发票"]
    return [
        create_ticket(
            actor=personas.bob,
            data=TicketData(subject=subject),
            comment=NewComment(body=f"{subject}: 请尽快处理，谢谢！"),
        )
        for subject in subjects
    ]


def test_agent_opens_a_view_replies_publicly_and_adds_a_note(page, live_server, personas):
    tickets = workspace(personas)
    sign_in(page, live_server, personas.alice)

    page.goto("/agent/")
    expect(page.get_by_role("heading", name="未解决 Unsolved")).to_be_visible()
    expect(page.locator("#view-list .sidebar__count").first).to_have_text("3")
    screenshot(page, "agent-view-list")

    page.get_by_role("link", name="退货申请 Return request").click()
    expect(page.get_by_role("heading", name="退货申请 Return request")).to_be_visible()
    page.keyboard.press("r")
    page.get_by_label("Comment", exact=True).fill("您好，退货已受理。")
    page.locator("[data-submit-main]").click()
    expect(page.get_by_text(f"Ticket #{tickets[1].pk} updated.")).to_be_visible()
    expect(page.locator(".thread__item", has_text="您好，退货已受理。")).to_be_visible()

    page.keyboard.press("n")
    expect(page.locator(".composer--note")).to_be_visible()
    page.get_by_label("Comment", exact=True).fill("Customer is a VIP; refund today.")
    page.locator("[data-submit-main]").click()
    note = page.locator(".thread__item--note", has_text="Customer is a VIP")
    expect(note).to_be_visible()
    expect(note.get_by_text("Internal note")).to_be_visible()
    screenshot(page, "agent-ticket-reply-and-note")

    comments = Comment.objects.filter(ticket=tickets[1]).order_by("created_at")
    assert [(c.body, c.public) for c in comments][1:] == [
        ("您好，退货已受理。", True),
        ("Customer is a VIP; refund today.", False),
    ]


def test_agent_bulk_updates_two_tickets(page, live_server, personas):
    first, second, third = workspace(personas)
    sign_in(page, live_server, personas.alice)
    page.goto("/agent/")

    page.get_by_label(f"Select ticket #{first.pk}").check()
    page.get_by_label(f"Select ticket #{second.pk}").check()
    page.locator(".bulk-bar").get_by_label("Priority").select_option("urgent")
    page.locator(".bulk-bar").get_by_label("Add tags").fill("批量 bulk")
    screenshot(page, "agent-bulk-update")
    page.get_by_role("button", name="Apply to selected").click()

    expect(page.get_by_text("Updated 2 tickets.")).to_be_visible()
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert ticket.priority == "urgent"
        assert {"批量", "bulk"} <= set(ticket.tags)
    third.refresh_from_db()
    assert third.priority is None


def test_agent_applies_a_macro_reviews_it_and_submits(page, live_server, personas):
    tickets = workspace(personas)
    create_macro(
        actor=personas.admin,
        title="请提供订单号 / Ask for the order number",
        actions=[
            {"field": "status", "value": "pending"},
            {"field": "priority", "value": "high"},
            {"field": "comment_value", "value": "您好，请提供一下订单号。"},
        ],
    )
    sign_in(page, live_server, personas.alice)
    page.goto(reverse("tickets:ticket", args=[tickets[0].pk]))

    page.get_by_label("Macro").select_option(label="请提供订单号 / Ask for the order number")
    page.get_by_role("button", name="Apply macro").click()
    expect(page.get_by_text("Review the changes, then submit.")).to_be_visible()
    expect(page.get_by_label("Comment", exact=True)).to_have_value("您好，请提供一下订单号。")
    expect(page.locator("[data-submit-main]")).to_have_text("Submit as Pending")
    screenshot(page, "agent-macro-preview")
    tickets[0].refresh_from_db()
    assert tickets[0].status == "new"

    page.locator("[data-submit-main]").click()
    expect(page.get_by_text(f"Ticket #{tickets[0].pk} updated.")).to_be_visible()
    tickets[0].refresh_from_db()
    assert (tickets[0].status, tickets[0].priority) == ("pending", "high")
    assert Comment.objects.filter(ticket=tickets[0], body="您好，请提供一下订单号。").exists()


def test_switching_language_changes_the_interface_and_is_remembered(page, live_server, personas):
    workspace(personas)
    sign_in(page, live_server, personas.alice)
    page.goto("/agent/")
    expect(page.get_by_role("link", name="New ticket").first).to_be_visible()

    page.get_by_label("Language").select_option("zh-hans")
    expect(page.get_by_role("link", name="新建工单").first).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    screenshot(page, "agent-view-list-zh-hans")
    assert User.objects.get(pk=personas.alice.pk).locale == "zh-hans"

    page.get_by_role("link", name="打印机冒烟了 Printer smoking").click()
    expect(page.get_by_text("公开回复").first).to_be_visible()
    screenshot(page, "agent-ticket-zh-hans")


def test_agent_creates_a_ticket_for_a_new_customer(page, live_server, personas):
    workspace(personas)
    sign_in(page, live_server, personas.alice)
    page.goto(reverse("tickets:new"))
    page.get_by_label("Requester email").fill("dora@newco.test")
    # The lookup answers 300 ms after typing and its hint moves the form down: wait for it, so
    # the click below lands on the button and not where the button was a moment before.
    expect(page.get_by_text("No one matches")).to_be_visible()
    page.get_by_label("Requester name").fill("Dora 朵拉")
    page.get_by_label("Subject").fill("电话：耳机没有声音")
    page.get_by_label("Description").fill("客户来电，耳机左耳没有声音。")
    screenshot(page, "agent-new-ticket")
    page.get_by_role("button", name="Create ticket").click()
    expect(page.get_by_role("heading", name="电话：耳机没有声音")).to_be_visible()
    ticket = Ticket.objects.get(subject="电话：耳机没有声音")
    assert ticket.requester.email == "dora@newco.test"
    page.get_by_role("link", name="Dora 朵拉").first.click()
    expect(page.get_by_text("dora@newco.test").first).to_be_visible()
    screenshot(page, "agent-customer-page")


def test_the_ticket_page_works_on_a_phone(phone_page, live_server, personas):
    tickets = workspace(personas)
    sign_in(phone_page, live_server, personas.alice)
    phone_page.goto(reverse("tickets:ticket", args=[tickets[0].pk]))
    expect(phone_page.get_by_role("heading", name="打印机冒烟了 Printer smoking")).to_be_visible()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(phone_page, "agent-ticket-phone")


def test_j_and_k_move_through_the_whole_view_across_pages(page, live_server, personas):
    view = create_view(actor=personas.admin, title="未解决 Unsolved", conditions=UNSOLVED)
    for i in range(32):
        create_ticket(actor=personas.bob, data=TicketData(subject=f"工单 Ticket {i:02d}"),
                      comment=NewComment(body="请帮忙。"))  # fmt: skip
    sign_in(page, live_server, personas.alice)
    page.goto(reverse("tickets:view", args=[view.pk]) + "?sort=subject&order=asc")

    page.get_by_role("link", name="工单 Ticket 29").click()  # the last row of page one
    expect(page.get_by_role("heading", name="工单 Ticket 29")).to_be_visible()
    page.keyboard.press("j")
    expect(page.get_by_role("heading", name="工单 Ticket 30")).to_be_visible()
    page.keyboard.press("k")
    expect(page.get_by_role("heading", name="工单 Ticket 29")).to_be_visible()
    page.get_by_role("link", name="Back to the view").click()
    expect(page.get_by_role("link", name="工单 Ticket 29")).to_be_visible()


def test_a_light_agent_adds_a_note_and_sees_properties_read_only(page, live_server, personas):
    """A colleague from another department (a light agent) reads the ticket in Chromium, adds
    an internal note, and cannot reply publicly or change a property; the keyboard shortcut
    for a public reply does nothing."""
    from kefu.accounts import actions as accounts
    from kefu.accounts.choices import Role

    tickets = workspace(personas)
    lee = accounts.create_user(name="Lee 李", email="lee@kefu.test", role=Role.LIGHT_AGENT,
                               password=PASSWORD)  # fmt: skip
    sign_in(page, live_server, lee)
    page.goto(f"/agent/tickets/{tickets[0].pk}/")
    expect(page.get_by_role("heading", name="打印机冒烟了 Printer smoking")).to_be_visible()
    expect(page.locator("select[name=priority]")).to_be_disabled()
    expect(page.locator("input[name=mode][value=public]")).to_have_count(0)
    expect(page.get_by_text("New ticket")).to_have_count(0)
    page.keyboard.press("r")
    expect(page.locator(".composer--note")).to_be_visible()
    page.get_by_label("Comment", exact=True).fill("仓库：周一发货 Warehouse ships Monday")
    page.get_by_role("button", name="Add internal note").click()
    expect(page.locator(".thread__item--note", has_text="Warehouse ships Monday")).to_be_visible()
    screenshot(page, "light-agent-ticket")
    note = Comment.objects.get(ticket=tickets[0], author=lee)
    assert note.public is False
