"""The harness itself: Chromium reaches the live server, renders Kefu's pages, screenshots,
and the test's own thread keeps using the ORM normally while the browser runs."""

import asyncio

import pytest

from kefu.accounts.models import User
from tests.browser.conftest import expect, screenshot


def test_chromium_renders_the_health_check_from_the_live_server(page):
    response = page.goto("/healthz")

    assert response is not None and response.status == 200
    assert '"status": "ok"' in page.content()


def test_the_admin_sign_in_page_renders_with_its_form(page):
    page.goto("/admin/login/")

    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert screenshot(page, "smoke-admin-login").stat().st_size > 0


def test_data_written_by_the_test_is_visible_to_the_browser(page, personas):
    # given: the admin persona, written by the test through actions
    page.goto("/admin/login/")

    # when
    page.get_by_label("Email").fill(personas.admin.email)
    page.get_by_label("Password").fill("correct horse 42")
    page.get_by_role("button", name="Log in").click()

    # then: signed in, and this thread has no event loop, so the ORM works as in any test
    expect(page.get_by_text("Site administration")).to_be_visible()
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    assert User.objects.filter(email="admin@kefu.test").exists()


def test_a_phone_sized_page_is_390_pixels_wide(phone_page):
    phone_page.goto("/admin/login/")

    assert phone_page.evaluate("window.innerWidth") == 390
