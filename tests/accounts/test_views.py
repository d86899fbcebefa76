"""Sign-in, sign-out, password reset, sign-up and email confirmation through the web pages."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from kefu.accounts import actions as accounts
from kefu.accounts.models import User
from kefu.crm.models import Identity

LOGIN = "/login/"


def link_in(message) -> str:  # type: ignore[no-untyped-def]
    """The path of the first Kefu link in an email (the links carry KEFU_BASE_URL)."""
    match = re.search(r"https?://[^/\s]+(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def sign_in(client, email, password="correct horse 42", **extra):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": email, "password": password, **extra})


# --- Sign-in ------------------------------------------------------------------------------------


def test_the_sign_in_page_has_labelled_fields_and_links(client, db):
    response = client.get(LOGIN)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">Email' in html
    assert '<label for="id_password">Password' in html
    assert reverse("accounts:password_reset") in html
    assert reverse("accounts:register") in html


def test_an_agent_lands_in_the_workspace_after_signing_in(client, personas):
    response = sign_in(client, "ALICE@kefu.test")

    assert response.status_code == 302
    assert response.url == "/agent/"


def test_a_customer_lands_in_the_portal_after_signing_in(client, personas):
    response = sign_in(client, personas.bob.email)

    assert response.status_code == 302
    assert response.url == "/portal/"


def test_sign_in_follows_a_safe_next_but_not_another_site(client, personas):
    assert sign_in(client, personas.bob.email, next="/portal/requests/").url == "/portal/requests/"
    other = Client()
    assert sign_in(other, personas.bob.email, next="https://evil.test/").url == "/portal/"


def test_a_wrong_password_shows_the_error_and_keeps_the_email(client, personas):
    response = sign_in(client, personas.bob.email, password="wrong")

    assert response.status_code == 200
    html = response.content.decode()
    assert "The email or password is not right" in html
    assert 'value="bob@acme.test"' in html
    assert "_auth_user_id" not in client.session


def test_the_error_is_in_chinese_for_a_chinese_browser(client, personas):
    response = client.post(
        LOGIN,
        {"username": personas.bob.email, "password": "wrong"},
        HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9",
    )

    assert "邮箱或密码不正确" in response.content.decode()


def test_signing_in_rotates_the_session_key(client, personas):
    session = client.session
    session["probe"] = 1
    session.save()
    before = session.session_key

    sign_in(client, personas.bob.email)

    assert client.session.session_key != before
    assert int(client.session["_auth_user_id"]) == personas.bob.pk


def test_five_failures_lock_the_email_out_even_with_the_right_password(client, personas, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, personas.bob.email, password="guess")

    response = sign_in(client, personas.bob.email)

    assert response.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lockout_of_one_email_leaves_other_people_alone(client, personas, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, personas.bob.email, password="guess")

    assert sign_in(client, personas.alice.email).status_code == 302


def test_the_lockout_message_is_translated(client, personas, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, personas.bob.email, password="guess")

    response = client.post(
        LOGIN,
        {"username": personas.bob.email, "password": "x"},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )

    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


def test_sign_out_needs_a_post_and_ends_the_session(client, personas):
    client.force_login(personas.bob)

    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")

    assert response.status_code == 302
    assert response.url == LOGIN
    assert "_auth_user_id" not in client.session


def test_forms_refuse_a_post_without_csrf_token(personas):
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(LOGIN, {"username": personas.bob.email, "password": "x"})

    assert response.status_code == 403


# --- Password reset -----------------------------------------------------------------------------


def test_password_reset_emails_a_link_that_sets_a_new_password(
    client, personas, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/password/reset/", {"email": personas.bob.email})

    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [personas.bob.email]
    form_page = client.get(link_in(mailoutbox[0]), follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a new long secret 77", "new_password2": "a new long secret 77"},
    )
    assert response.status_code == 302
    assert sign_in(Client(), personas.bob.email, password="a new long secret 77").url == "/portal/"


def test_password_reset_for_an_unknown_email_sends_nothing_and_says_the_same(
    client, db, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/password/reset/", {"email": "nobody@example.test"})

    assert response.status_code == 302
    assert mailoutbox == []


def test_a_used_or_forged_reset_link_says_it_does_not_work(client, db):
    response = client.get("/password/reset/MQ/forged-token/", follow=True)

    assert response.status_code == 200
    assert "This link is invalid or has expired" in response.content.decode()


# --- Sign-up ------------------------------------------------------------------------------------

SIGN_UP = {
    "name": "Dora 朵拉",
    "email": "Dora@Example.test",
    "password": "sunny meadow 2026",
    "password_again": "sunny meadow 2026",
}


def test_sign_up_creates_an_inactive_customer_and_emails_a_confirmation_link(
    client, db, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/register/", SIGN_UP)

    assert response.status_code == 302
    dora = User.objects.get(email="dora@example.test")
    assert dora.is_end_user and not dora.is_active
    assert len(mailoutbox) == 1
    assert "/verify/" in mailoutbox[0].body
    assert sign_in(client, "dora@example.test", password=SIGN_UP["password"]).status_code == 200


def test_the_confirmation_link_activates_the_account_and_verifies_the_email(
    client, db, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/register/", SIGN_UP)

    response = client.get(link_in(mailoutbox[0]))

    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    dora = User.objects.get(email="dora@example.test")
    assert dora.is_active
    assert Identity.objects.get(user=dora, type="email").verified
    assert sign_in(client, "dora@example.test", password=SIGN_UP["password"]).url == "/portal/"


def test_a_forged_confirmation_link_is_refused_with_a_message(client, db):
    response = client.get("/verify/not-a-real-token/")

    assert response.status_code == 400
    assert "invalid or has expired" in response.content.decode()


def test_signing_up_with_a_known_email_creates_nobody_and_tells_the_owner(
    client, personas, mailoutbox, django_capture_on_commit_callbacks
):
    users_before = User.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/register/", {**SIGN_UP, "email": personas.bob.email})

    assert response.status_code == 302  # the same answer as for a new address
    assert User.objects.count() == users_before
    assert "already has an account" in mailoutbox[0].body


def test_sign_up_errors_stand_next_to_their_fields_and_keep_the_values(client, db):
    response = client.post("/register/", {**SIGN_UP, "password": "123", "password_again": "456"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_password_again_error"' in html
    assert "The two passwords are different." in html
    assert 'value="Dora 朵拉"' in html
    assert not User.objects.filter(email="dora@example.test").exists()


def test_a_weak_password_is_refused_next_to_the_password_field(client, db):
    weak = {**SIGN_UP, "password": "password", "password_again": "password"}

    response = client.post("/register/", weak)

    assert response.status_code == 200
    assert 'id="id_password_error"' in response.content.decode()
    assert not User.objects.filter(email="dora@example.test").exists()


def test_sign_up_is_closed_when_the_admin_turned_it_off(client, db):
    accounts.update_account_settings(allow_registration=False)

    assert client.get("/register/").status_code == 404
    assert client.post("/register/", SIGN_UP).status_code == 404
    assert reverse("accounts:register") not in client.get(LOGIN).content.decode()


@pytest.mark.parametrize("path", ["/login/", "/register/", "/password/reset/"])
def test_the_pages_render_in_chinese(client, db, path):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-CN")

    assert response.status_code == 200
    assert '<html lang="zh-hans"' in response.content.decode()
    assert "电子邮件" in response.content.decode()
