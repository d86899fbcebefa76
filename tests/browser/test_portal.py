"""The customer's and the admin's paths through the portal and the settings, in Chromium."""

import re

from kefu.accounts.models import User
from kefu.tickets.actions import NewComment, TicketData, create_ticket, update_ticket
from kefu.tickets.models import Ticket
from tests.browser.conftest import _new_page, expect, screenshot

PASSWORD = "correct horse 42"


def sign_in(page, email, password=PASSWORD):  # type: ignore[no-untyped-def]
    page.goto("/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_customer_signs_up_asks_for_help_and_follows_the_conversation(page, personas, mailoutbox):
    # Sign up
    page.goto("/register/")
    page.get_by_label("Your name").fill("Dora 朵拉")
    page.get_by_label("Email").fill("dora@example.test")
    page.locator("#id_password").fill("sunny meadow 2026")
    page.locator("#id_password_again").fill("sunny meadow 2026")
    screenshot(page, "register")
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()

    # Follow the link from the email, then sign in
    link = re.search(r"https?://[^/\s]+(/verify/\S+)", mailoutbox[0].body)
    assert link is not None
    page.goto(link.group(1))
    expect(page.get_by_text("Your email address is confirmed.")).to_be_visible()
    page.locator("#id_password").fill("sunny meadow 2026")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="How can Kefu help you?")).to_be_visible()
    screenshot(page, "portal-home")

    # Submit a request with an attachment
    page.get_by_role("link", name="Submit a request").first.click()
    page.get_by_label("Subject").fill("洗衣机漏水 Washer leaks")
    page.get_by_label("Description").fill("Water on the floor after every wash.")
    page.get_by_label("Attachments").set_input_files(
        {"name": "漏水.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff jpeg"}
    )
    screenshot(page, "portal-new-request")
    page.get_by_role("button", name="Submit the request").click()
    expect(page.get_by_role("heading", name="洗衣机漏水 Washer leaks")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("漏水.jpg"))).to_be_visible()

    # An agent adds a note and asks a question (in the agent workspace; here through actions)
    ticket = Ticket.objects.get(requester__email="dora@example.test")
    note = NewComment(body="Internal: warranty expired last month", public=False)
    update_ticket(ticket, actor=personas.alice, comment=note)
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="pending"),
                  comment=NewComment(body="Could you send a photo of the label?"))  # fmt: skip

    page.reload()
    expect(page.get_by_text("Could you send a photo of the label?")).to_be_visible()
    expect(page.get_by_text("warranty expired")).to_have_count(0)
    expect(page.locator('[aria-current="step"]')).to_contain_text("Waiting for you")
    screenshot(page, "portal-request-waiting")

    # The customer answers: the request goes back to the team
    page.get_by_label("Your reply").fill("Here it is: model WM-2024.")
    page.get_by_role("button", name="Send the reply").click()
    expect(page.get_by_text("Your reply was sent.")).to_be_visible()
    expect(page.locator('[aria-current="step"]')).to_contain_text("In progress")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    screenshot(page, "portal-request-replied")


def test_an_admin_adds_a_dropdown_field_that_customers_then_fill_in(
    page, browser, live_server, personas
):
    sign_in(page, personas.admin.email)
    page.goto("/agent/admin/")
    screenshot(page, "admin-settings")
    page.get_by_role("link", name="Ticket fields").first.click()
    page.get_by_role("link", name="Add a field").click()
    page.get_by_label("Type").select_option(label="Drop-down")
    page.get_by_label("Title for agents").fill("Product")
    page.get_by_label("Options").fill("洗衣机 Washer | washer\nDryer | dryer")
    page.get_by_label("Customers can see it").check()
    page.get_by_label("Customers can fill it in when they submit a request").check()
    page.get_by_label("Title for customers").fill("Your product")
    screenshot(page, "admin-new-field")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="Product")).to_be_visible()
    screenshot(page, "admin-fields")

    customer = _new_page(browser, live_server)
    try:
        sign_in(customer, personas.bob.email)
        customer.goto("/portal/requests/new/")
        product = customer.get_by_label("Your product")
        product.select_option(label="洗衣机 Washer")
        customer.get_by_label("Subject").fill("Noisy")
        customer.get_by_label("Description").fill("It rattles.")
        customer.get_by_role("button", name="Submit the request").click()
        expect(customer.get_by_text("Your product")).to_be_visible()
        expect(customer.get_by_text("洗衣机 Washer")).to_be_visible()
    finally:
        customer.context.close()
    assert "washer" in Ticket.objects.get(subject="Noisy").tags


def test_switching_the_language_changes_the_interface(page, personas):
    page.goto("/portal/")
    expect(page.get_by_role("heading", name="How can Kefu help you?")).to_be_visible()

    page.get_by_label("Language").select_option("zh-hans")

    expect(page.get_by_role("heading", name="Kefu 能为您做些什么？")).to_be_visible()
    expect(page.get_by_role("link", name="提交请求").first).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-hans"
    screenshot(page, "portal-home-zh")
    page.goto("/login/")
    expect(page.get_by_role("heading", name="登录 Kefu")).to_be_visible()


def test_the_request_page_fits_a_phone(phone_page, personas):
    ticket = create_ticket(
        actor=personas.bob,
        data=TicketData(
            subject="手机上看请求：一个很长很长没有空格的中文标题用来检查换行是否正常工作"
        ),
        comment=NewComment(body="订单号 A-1001，" * 20),
    )
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="pending"),
                  comment=NewComment(body="请发送照片。"))  # fmt: skip
    sign_in(phone_page, personas.bob.email)

    phone_page.goto(f"/portal/requests/{ticket.pk}/")

    expect(phone_page.get_by_role("button", name="Send the reply")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "portal-request-phone")


def test_the_sign_in_page_and_the_lockout_in_the_browser(page, personas, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(page, personas.bob.email, password="wrong guess")
    expect(page.get_by_text("The email or password is not right")).to_be_visible()
    expect(page.locator("#id_username")).to_have_value(personas.bob.email)
    screenshot(page, "sign-in-error")

    sign_in(page, personas.bob.email, password="one more guess")
    sign_in(page, personas.bob.email)

    expect(page.get_by_text("Too many failed sign-in attempts")).to_be_visible()
    assert User.objects.get(pk=personas.bob.pk).last_login is None


def test_screenshots_of_the_admin_settings_and_the_chinese_request_page(page, personas):
    ticket = create_ticket(actor=personas.bob, data=TicketData(subject="退货申请 Return"),
                           comment=NewComment(body="收到的商品有划痕。"))  # fmt: skip
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="pending", tags=["退货"]),
                  comment=NewComment(body="请上传照片，我们马上处理。"))  # fmt: skip
    sign_in(page, personas.admin.email)

    for section in ("agents", "groups", "views/new", "macros", "tags", "settings", "branding"):
        page.goto(f"/agent/admin/{section}/")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        screenshot(page, f"admin-{section.replace('/', '-')}")

    page.get_by_label("Language").select_option("zh-hans")
    expect(page.get_by_role("heading", name="品牌")).to_be_visible()
    page.goto(f"/portal/requests/{ticket.pk}/")
    expect(page.locator('[aria-current="step"]')).to_contain_text("等待您的回复")
    screenshot(page, "portal-request-zh")
