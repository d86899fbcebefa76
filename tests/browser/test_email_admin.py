"""The email admin page in Chromium: an admin adds a support address routed to a group."""

from typing import Any

from kefu.channels.email.models import SupportAddress
from tests.browser.conftest import expect, screenshot
from tests.browser.test_agent_workspace import sign_in


def test_an_admin_adds_a_support_address_in_the_browser(page: Any, live_server: Any, personas):  # type: ignore[no-untyped-def]
    # given an admin on the email page
    sign_in(page, live_server, personas.admin)
    page.goto("/agent/admin/email/")
    page.get_by_role("link", name="Add a support address").click()

    # when a wrong address is sent, the error shows next to the field
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_email_error")).to_be_visible()

    # and then a good one with a group
    page.get_by_label("Email address").fill("shouhou@kefu.test")
    page.get_by_label("Name").fill("售后服务")
    page.get_by_label("Group for new tickets").select_option(label="Support")
    page.get_by_role("button", name="Save").click()

    # then it is listed, routed to the group
    expect(page.get_by_role("link", name="shouhou@kefu.test")).to_be_visible()
    screenshot(page, "email-admin-support-address")
    address = SupportAddress.objects.get()
    assert (address.email, address.name, address.group) == (
        "shouhou@kefu.test",
        "售后服务",
        personas.support,
    )
