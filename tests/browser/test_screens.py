"""Every agent, admin and portal screen in both languages, for reviewers and for layout.

Screenshots go to test-output/screenshots/tour-<language>-<screen>.png. The data carries what
breaks layouts: a long Chinese subject with no spaces, a long unbroken word, an empty view.
Each screen must fit its width (no sideways scrolling): the agent's at a laptop's 1280 px, the
customer's at a phone's 390 px.
"""

import re

import pytest
from django.urls import reverse

from kefu.accounts import actions as accounts
from kefu.tickets.actions import NewComment, TicketData, create_ticket, create_view, update_ticket
from tests.browser.conftest import PHONE, expect, screenshot

PASSWORD = "correct horse 42"
LONG_SUBJECT = "客户反馈：收到的智能音箱在连接家庭无线网络之后频繁断线并且无法通过手机应用重新配对"
LONG_WORD = "订单号" + "A1B2C3D4E5" * 12
UNSOLVED = {"all": [{"field": "status", "operator": "less_than", "value": "solved"}], "any": []}
CLOSED = {"all": [{"field": "status", "operator": "is", "value": "closed"}], "any": []}
LANGUAGES = ["en", "zh-hans"]


def sign_in(page, email):  # type: ignore[no-untyped-def]
    page.goto("/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")
    page.wait_for_url(re.compile(r"/(agent|portal)/"))


def fits(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def the_data(personas):  # type: ignore[no-untyped-def]
    unsolved = create_view(actor=personas.admin, title="未解决 Unsolved", conditions=UNSOLVED)
    empty = create_view(actor=personas.admin, title="已关闭 Closed", conditions=CLOSED)
    long_one = create_ticket(
        actor=personas.bob,
        data=TicketData(subject=LONG_SUBJECT),
        comment=NewComment(body=f"您好，{LONG_WORD}。" + "设备重启后仍然无法连接。" * 8),
    )
    update_ticket(
        long_one, actor=personas.alice,
        data=TicketData(status="pending", priority="high", assignee=personas.alice,
                        tags=["退货", "vip"]),
        comment=NewComment(body="您好，请告诉我们路由器的型号，谢谢！"),
    )  # fmt: skip
    note = NewComment(body="可能是固件问题，已联系研发。", public=False)
    update_ticket(long_one, actor=personas.alice, data=TicketData(), comment=note)
    for subject in ("Invoice copy 发票", "退货申请 Return request"):
        create_ticket(actor=personas.bob, data=TicketData(subject=subject),
                      comment=NewComment(body=f"{subject}，请尽快处理。"))  # fmt: skip
    return long_one, empty, unsolved


@pytest.mark.parametrize("language", LANGUAGES)
def test_agent_and_admin_screens_fit_and_are_captured(page, personas, language):
    ticket, empty, unsolved = the_data(personas)
    accounts.update_user(personas.admin, locale=language)
    sign_in(page, personas.admin.email)
    screens = {
        "view-list": reverse("tickets:view", args=[unsolved.pk]),
        "view-empty": reverse("tickets:view", args=[empty.pk]),
        "ticket": reverse("tickets:ticket", args=[ticket.pk]),
        "new-ticket": reverse("tickets:new"),
        "customer": reverse("crm:user", args=[personas.bob.pk]),
        "organization": reverse("crm:organization", args=[personas.acme.pk]),
        "search": reverse("web:search") + "?q=发票",
        "search-nothing": reverse("web:search") + "?q=没有这个词",
        "admin": reverse("web_admin:index"),
        "admin-agents": reverse("web_admin:agents"),
        "admin-groups": reverse("web_admin:groups"),
        "admin-fields": reverse("web_admin:fields"),
        "admin-views": reverse("web_admin:views"),
        "admin-macros": reverse("web_admin:macros"),
        "admin-tags": reverse("web_admin:tags"),
        "admin-settings": reverse("web_admin:settings"),
        "admin-branding": reverse("web_admin:branding"),
    }
    crowded = []
    for name, url in screens.items():
        response = page.goto(url)
        assert response.status == 200, (name, response.status)
        expect(page.locator("html")).to_have_attribute("lang", language)
        if name.startswith("view"):
            expect(page.locator("#view-list .sidebar__count").first).to_be_visible()
        screenshot(page, f"tour-{language}-{name}")
        if not fits(page):
            crowded.append(name)
    assert crowded == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_portal_screens_fit_a_phone_and_are_captured(phone_page, personas, language):
    ticket, _empty, _unsolved = the_data(personas)
    accounts.update_user(personas.bob, locale=language)
    sign_in(phone_page, personas.bob.email)
    screens = {
        "portal-home": reverse("portal:home"),
        "portal-requests": reverse("portal:requests"),
        "portal-new-request": reverse("portal:new_request"),
        "portal-request": reverse("portal:request", args=[ticket.pk]),
    }
    crowded = []
    for name, url in screens.items():
        response = phone_page.goto(url)
        assert response.status == 200, (name, response.status)
        screenshot(phone_page, f"tour-{language}-{name}-phone")
        if phone_page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
            crowded.append(name)
    assert crowded == []
