"""The email admin pages' forms: addresses, mailboxes, templates and settings."""

import pytest
from django.urls import reverse
from django.utils import translation

from kefu.channels.email import actions
from kefu.channels.email.models import EmailSettings, EmailTemplate, Mailbox, SupportAddress

from .conftest import SUPPORT

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(personas, client):  # type: ignore[no-untyped-def]
    client.force_login(personas.admin)
    return client


def mailbox_form(address: SupportAddress, **changes: object) -> dict[str, object]:
    return {
        "name": "QQ 邮箱", "support_address": address.pk, "host": "imap.qq.com", "port": 993,
        "security": "tls", "username": "support@kefu.test", "auth": "password",
        "password": "授权码", "folder": "INBOX", "poll_seconds": 60, "active": "on", **changes,
    }  # fmt: skip


def test_an_admin_adds_edits_and_deletes_a_support_address(personas, admin_client):
    # given the page with the add button
    page = admin_client.get(reverse("email:admin")).content.decode()
    assert reverse("email:new_address") in page
    # when an admin adds one routed to a group
    form = admin_client.get(reverse("email:new_address")).content.decode()
    assert 'name="csrfmiddlewaretoken"' in form and '<label for="id_email">' in form
    created = admin_client.post(
        reverse("email:new_address"),
        {"email": "Sales@Kefu.test", "name": "销售", "group": personas.support.pk},
    )
    assert created.status_code == 302
    address = SupportAddress.objects.get()
    assert (address.email, address.group, address.default) == (
        "sales@kefu.test",
        personas.support,
        True,
    )
    # and renames it
    edit_url = reverse("email:edit_address", args=[address.pk])
    assert "sales@kefu.test" in admin_client.get(edit_url).content.decode()
    admin_client.post(edit_url, {"email": "sales@kefu.test", "name": "Sales", "default": "on"})
    address.refresh_from_db()
    assert (address.name, address.group) == ("Sales", None)
    # and deletes it
    admin_client.post(reverse("email:delete_address", args=[address.pk]))
    assert not SupportAddress.objects.exists()


def test_a_bad_or_duplicate_address_shows_the_error_next_to_the_field(admin_client):
    actions.create_support_address(email=SUPPORT)
    invalid = admin_client.post(reverse("email:new_address"), {"email": "not an address"})
    assert invalid.status_code == 400
    assert invalid.context["form"].errors["email"]
    duplicate = admin_client.post(reverse("email:new_address"), {"email": SUPPORT})
    assert duplicate.status_code == 400
    assert duplicate.context["form"].errors["email"] == ["This support address already exists."]
    plus = admin_client.post(reverse("email:new_address"), {"email": "a+b@kefu.test"})
    assert 'id="id_email_error"' in plus.content.decode()
    assert SupportAddress.objects.count() == 1


def test_deleting_the_default_address_while_others_exist_is_refused(admin_client):
    default = actions.create_support_address(email=SUPPORT)
    actions.create_support_address(email="other@kefu.test")
    response = admin_client.post(reverse("email:delete_address", args=[default.pk]), follow=True)
    assert "Make another address the default" in response.content.decode()
    assert SupportAddress.objects.count() == 2


def test_the_pages_are_in_chinese_for_a_chinese_admin(personas, admin_client):
    personas.admin.locale = "zh-hans"
    personas.admin.save()
    with translation.override("zh-hans"):
        page = admin_client.get(
            reverse("email:new_address"), headers={"accept-language": "zh-hans"}
        )
    assert "邮箱地址" in page.content.decode() or "电子邮件地址" in page.content.decode()


def test_an_admin_adds_a_mailbox_and_the_password_is_kept_when_left_empty(admin_client):
    address = actions.create_support_address(email=SUPPORT)
    created = admin_client.post(reverse("email:new_mailbox"), mailbox_form(address))
    assert created.status_code == 302, created.content.decode()
    mailbox = Mailbox.objects.get()
    assert (mailbox.host, mailbox.password, mailbox.security) == ("imap.qq.com", "授权码", "tls")
    # the edit page never shows the password
    edit_url = reverse("email:edit_mailbox", args=[mailbox.pk])
    assert "授权码" not in admin_client.get(edit_url).content.decode()
    admin_client.post(edit_url, mailbox_form(address, password="", folder="Support"))
    mailbox.refresh_from_db()
    assert (mailbox.folder, mailbox.password) == ("Support", "授权码")
    admin_client.post(reverse("email:delete_mailbox", args=[mailbox.pk]))
    assert not Mailbox.objects.exists()


def test_a_mailbox_without_password_or_with_a_bad_port_shows_field_errors(admin_client):
    address = actions.create_support_address(email=SUPPORT)
    no_password = admin_client.post(
        reverse("email:new_mailbox"), mailbox_form(address, password="")
    )
    assert no_password.status_code == 400
    assert list(no_password.context["form"].errors) == ["password"]
    oauth = admin_client.post(
        reverse("email:new_mailbox"), mailbox_form(address, password="", auth="xoauth2")
    )
    assert list(oauth.context["form"].errors) == ["oauth_refresh_token"]
    bad_port = admin_client.post(reverse("email:new_mailbox"), mailbox_form(address, port=70000))
    assert list(bad_port.context["form"].errors) == ["port"]
    assert not Mailbox.objects.exists()


def test_test_connection_signs_in_to_a_real_dovecot(dovecot, admin_client):
    address = actions.create_support_address(email=SUPPORT)
    user = dovecot.add_user("box300")  # read only: no other test fetches it
    mailbox = actions.create_mailbox(
        support_address=address, host="127.0.0.1", port=dovecot.port, security="none",
        username=user, password="secret",
    )  # fmt: skip
    url = reverse("email:test_mailbox", args=[mailbox.pk])
    ok = admin_client.post(url, follow=True).content.decode()
    assert "Signed in and opened the folder INBOX" in ok
    actions.update_mailbox(mailbox, password="wrong")
    failed = admin_client.post(url, follow=True).content.decode()
    assert "The connection failed: Sign-in failed for box300" in failed


def test_test_connection_with_oauth_saves_no_refreshed_token(dovecot, oauth_server, admin_client):
    oauth_server.refresh_tokens["rt-oauthbox-test"] = "oauthbox"
    address = actions.create_support_address(email=SUPPORT)
    mailbox = actions.create_mailbox(
        support_address=address, host="127.0.0.1", port=dovecot.port, security="none",
        username=dovecot.add_user("oauthbox"), auth="xoauth2",
        oauth_token_endpoint=f"http://127.0.0.1:{dovecot.oauth_port}/token",
        oauth_client_id="kefu", oauth_refresh_token="rt-oauthbox-test",
    )  # fmt: skip
    before = Mailbox.objects.values().get(pk=mailbox.pk)
    refreshes = oauth_server.refreshes

    page = admin_client.post(reverse("email:test_mailbox", args=[mailbox.pk]), follow=True)

    assert "Signed in and opened the folder INBOX" in page.content.decode()
    assert oauth_server.refreshes == refreshes + 1  # it did sign in with a fresh token
    assert Mailbox.objects.values().get(pk=mailbox.pk) == before  # and kept none of it


def test_a_template_is_previewed_for_a_sample_ticket_then_saved(admin_client):
    url = reverse("email:edit_template", args=["acknowledgement", "zh-hans"])
    assert "{{ ticket.id }}" in admin_client.get(url).content.decode()
    text = "{{ ticket.requester.name }}，您好：\n\n#{{ ticket.id }} 已收到<script>alert(1)</script>"
    subject = "[#{{ ticket.id }}] 收到：{{ ticket.title }}"
    preview = admin_client.post(url, {"subject": subject, "body": text, "preview": "1"})
    assert preview.status_code == 200
    assert preview.context["preview"]["subject"] == "[#1234] 收到：打印机无法开机"
    assert "王小明，您好：" in preview.context["preview"]["html"]
    assert "<script>" not in preview.content.decode()  # the safe renderer sanitizes
    assert EmailTemplate.objects.get(key="acknowledgement", locale="zh-hans").body != text
    saved = admin_client.post(url, {"subject": "[#{{ ticket.id }}] 收到", "body": text})
    assert saved.status_code == 302
    assert EmailTemplate.objects.get(key="acknowledgement", locale="zh-hans").body == text


def test_a_template_with_a_tag_is_refused_next_to_the_field(admin_client):
    url = reverse("email:edit_template", args=["notification", "en"])
    for extra in ({}, {"preview": "1"}):
        response = admin_client.post(
            url, {"subject": "Update", "body": "{% debug %}{{ settings.SECRET_KEY }}", **extra}
        )
        assert response.status_code == 400
        assert list(response.context["form"].errors) == ["body"]
    assert (
        admin_client.get(reverse("email:edit_template", args=["notification", "fr"])).status_code
        == 404
    )


def test_an_admin_changes_the_email_settings(admin_client):
    url = reverse("email:settings")
    response = admin_client.post(
        url,
        {"expected_response": "两小时内", "sender_rate_limit": 5, "default_locale": "en"},
    )
    assert response.status_code == 302
    saved = EmailSettings.load()
    assert (saved.acknowledge_new_tickets, saved.expected_response, saved.sender_rate_limit,
            saved.default_locale) == (False, "两小时内", 5, "en")  # fmt: skip
    bad = admin_client.post(url, {"sender_rate_limit": 0, "default_locale": "fr"})
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) == {"sender_rate_limit", "default_locale"}


def test_agents_get_403_and_customers_404_on_the_forms(personas, client):
    address = actions.create_support_address(email=SUPPORT)
    urls = [
        reverse("email:new_address"),
        reverse("email:edit_address", args=[address.pk]),
        reverse("email:new_mailbox"),
        reverse("email:edit_template", args=["acknowledgement", "en"]),
        reverse("email:settings"),
    ]
    client.force_login(personas.alice)
    assert {client.get(url).status_code for url in urls} == {403}
    assert client.post(reverse("email:delete_address", args=[address.pk])).status_code == 403
    client.force_login(personas.bob)
    assert {client.get(url).status_code for url in urls} == {404}
    assert SupportAddress.objects.count() == 1
