"""Mailbox passwords and OAuth secrets are encrypted at rest."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from kefu.channels.email import actions
from kefu.channels.email.fields import PREFIX
from kefu.channels.email.imap import fetch_mailbox
from kefu.channels.email.models import Mailbox

from .conftest import SUPPORT

pytestmark = pytest.mark.django_db

SECRETS = ("password", "oauth_client_secret", "oauth_refresh_token", "oauth_access_token")


def raw_columns(mailbox: Mailbox) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(SECRETS)} FROM {Mailbox._meta.db_table} WHERE id = %s",  # noqa: S608
            [mailbox.pk],
        )
        return dict(zip(SECRETS, cursor.fetchone(), strict=True))


def new_mailbox(**fields: object) -> Mailbox:
    address = actions.create_support_address(email=SUPPORT)
    return actions.create_mailbox(
        support_address=address, host="imap.qq.com", username="support@kefu.test", **fields
    )


def test_secrets_are_stored_encrypted_and_read_back_in_plain_text(personas):
    mailbox = new_mailbox(
        password="授权码 secret",
        oauth_client_secret="client-secret",
        oauth_refresh_token="refresh-token",
    )
    stored = raw_columns(mailbox)
    assert stored["password"].startswith(PREFIX)
    assert "secret" not in stored["password"] and "授权码" not in stored["password"]
    assert stored["oauth_client_secret"].startswith(PREFIX)
    assert stored["oauth_access_token"] == ""  # empty stays empty
    fresh = Mailbox.objects.get(pk=mailbox.pk)
    assert (fresh.password, fresh.oauth_client_secret, fresh.oauth_refresh_token) == (
        "授权码 secret",
        "client-secret",
        "refresh-token",
    )


def test_the_migration_encrypts_rows_written_in_plain_text_and_can_run_twice(
    transactional_db, django_db_serialized_rollback
):  # outside a transaction: SQLite's schema editor refuses to run inside one
    mailbox = new_mailbox(password="secret")
    with connection.cursor() as cursor:  # a row from before encryption
        cursor.execute(
            f"UPDATE {Mailbox._meta.db_table} SET password = %s WHERE id = %s",  # noqa: S608
            ["plain old password", mailbox.pk],
        )
    assert Mailbox.objects.get(pk=mailbox.pk).password == "plain old password"
    migration = importlib.import_module(
        "kefu.channels.email.migrations.0003_encrypt_mailbox_secrets"
    )
    with connection.schema_editor() as editor:
        migration.encrypt_existing(apps, editor)
        migration.encrypt_existing(apps, editor)
    assert raw_columns(mailbox)["password"].startswith(PREFIX)
    assert Mailbox.objects.get(pk=mailbox.pk).password == "plain old password"
    with connection.schema_editor() as editor:
        migration.decrypt_existing(apps, editor)
    assert raw_columns(mailbox)["password"] == "plain old password"


def test_a_secret_under_an_old_key_is_read_with_the_fallback_and_lost_without(personas, settings):
    mailbox = new_mailbox(password="secret")
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a brand new key " * 4, [old_key]
    assert Mailbox.objects.get(pk=mailbox.pk).password == "secret"
    settings.SECRET_KEY_FALLBACKS = []
    unreadable = Mailbox.objects.get(pk=mailbox.pk)
    assert unreadable.password == ""
    # the mailbox says so instead of failing silently
    fetch_mailbox(mailbox.pk)
    unreadable.refresh_from_db()
    assert "enter it again" in unreadable.last_error
