"""IMAP fetching against a real Dovecot started for the session."""

import itertools

import pytest

from kefu.channels.email.imap import fetch_mailbox, poll_mailboxes
from kefu.channels.email.inbound import process_pending
from kefu.channels.email.models import InboundMessage, Mailbox
from kefu.tickets.models import Ticket

from .conftest import SUPPORT, raw_mail

_users = itertools.count(1)


@pytest.fixture
def imap_personas(transactional_db, django_db_serialized_rollback):  # type: ignore[no-untyped-def]
    from kefu.channels.email import actions

    from ...conftest import make_personas

    personas = make_personas()
    personas.address = actions.create_support_address(email=SUPPORT, group=personas.support)
    return personas


def make_mailbox(dovecot, personas, **options) -> Mailbox:  # type: ignore[no-untyped-def]
    user = options.pop("username", None) or dovecot.add_user(f"box{next(_users)}")
    return Mailbox.objects.create(
        name=user,
        support_address=personas.address,
        host="127.0.0.1",
        port=dovecot.port,
        security="none",
        username=user,
        password=options.pop("password", "secret"),
        **options,
    )


def test_new_mail_becomes_tickets_and_is_marked_read(dovecot, imap_personas):
    mailbox = make_mailbox(dovecot, imap_personas)
    for n in range(3):
        dovecot.append(mailbox.username, raw_mail(subject=f"IMAP {n}"))

    assert fetch_mailbox(mailbox.pk) == "ok: 3 new"

    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "IMAP 0",
        "IMAP 1",
        "IMAP 2",
    ]
    assert dovecot.count(mailbox.username, criteria="UNSEEN") == 0
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 3 and mailbox.uidvalidity
    assert mailbox.last_error == "" and mailbox.last_success_at is not None


def test_fetching_again_is_idempotent_and_takes_only_new_mail(dovecot, imap_personas):
    mailbox = make_mailbox(dovecot, imap_personas)
    dovecot.append(mailbox.username, raw_mail(subject="first"))
    fetch_mailbox(mailbox.pk)

    dovecot.append(mailbox.username, raw_mail(subject="second"))
    assert fetch_mailbox(mailbox.pk) == "ok: 1 new"
    assert fetch_mailbox(mailbox.pk) == "ok: 0 new"

    assert Ticket.objects.count() == 2


def test_a_restart_before_the_bookkeeping_never_duplicates(dovecot, imap_personas):
    # given: messages were stored, but the process died before last_uid was written
    mailbox = make_mailbox(dovecot, imap_personas)
    for n in range(2):
        dovecot.append(mailbox.username, raw_mail(subject=f"once {n}"))
    fetch_mailbox(mailbox.pk)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=0)

    # when: it fetches again after the restart
    fetch_mailbox(mailbox.pk)

    # then: every message is one ticket
    assert InboundMessage.objects.count() == 2
    assert Ticket.objects.count() == 2


def test_a_changed_uidvalidity_starts_over_without_duplicates(dovecot, imap_personas):
    mailbox = make_mailbox(dovecot, imap_personas)
    dovecot.append(mailbox.username, raw_mail(subject="before"))
    fetch_mailbox(mailbox.pk)
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=1, last_uid=999)

    assert fetch_mailbox(mailbox.pk) == "ok: 1 new"

    assert Ticket.objects.count() == 1


def test_fetched_mail_is_moved_when_asked(dovecot, imap_personas):
    mailbox = make_mailbox(dovecot, imap_personas, move_to="Processed")
    dovecot.append(mailbox.username, raw_mail(subject="elsewhere"), folder="Processed")
    dovecot.append(mailbox.username, raw_mail(subject="move me"))

    fetch_mailbox(mailbox.pk)

    assert dovecot.count(mailbox.username) == 0
    assert dovecot.count(mailbox.username, folder="Processed") == 2
    assert Ticket.objects.get().subject == "move me"


def test_a_wrong_password_is_shown_on_the_mailbox(dovecot, imap_personas):
    mailbox = make_mailbox(dovecot, imap_personas, password="wrong")

    result = fetch_mailbox(mailbox.pk)

    mailbox.refresh_from_db()
    assert result.startswith("error: Sign-in failed")
    assert "Sign-in failed" in mailbox.last_error
    assert mailbox.last_error_at is not None


def test_an_unreachable_server_is_shown_on_the_mailbox(dovecot, imap_personas):
    from .conftest import free_port

    mailbox = make_mailbox(dovecot, imap_personas)
    Mailbox.objects.filter(pk=mailbox.pk).update(port=free_port())

    assert fetch_mailbox(mailbox.pk).startswith("error: Cannot connect")


def test_xoauth2_signs_in_with_a_refreshed_access_token(dovecot, oauth_server, imap_personas):
    oauth_server.refresh_tokens["rt-oauthbox"] = "oauthbox"
    mailbox = make_mailbox(
        dovecot,
        imap_personas,
        username="oauthbox",
        password="",
        auth="xoauth2",
        oauth_token_endpoint=f"http://127.0.0.1:{dovecot.oauth_port}/token",
        oauth_client_id="kefu",
        oauth_refresh_token="rt-oauthbox",
    )
    dovecot.add_user("oauthbox")
    dovecot.append("oauthbox", raw_mail(subject="via oauth"))

    assert fetch_mailbox(mailbox.pk) == "ok: 1 new"

    mailbox.refresh_from_db()
    assert mailbox.oauth_access_token.startswith("at-oauthbox-")
    assert Ticket.objects.get().subject == "via oauth"


def test_a_revoked_refresh_token_is_shown_on_the_mailbox(dovecot, imap_personas):
    mailbox = make_mailbox(
        dovecot,
        imap_personas,
        auth="xoauth2",
        oauth_token_endpoint=f"http://127.0.0.1:{dovecot.oauth_port}/token",
        oauth_refresh_token="revoked",
    )

    assert "refused the refresh token" in fetch_mailbox(mailbox.pk)
    mailbox.refresh_from_db()
    assert "invalid_grant" in mailbox.last_error


def test_due_mailboxes_are_fetched_concurrently_and_each_only_once(dovecot, imap_personas):
    from kefu.channels.email.imap import claim_due_mailboxes
    from kefu.core import clock

    mailboxes = [make_mailbox(dovecot, imap_personas) for _ in range(4)]
    for mailbox in mailboxes:
        dovecot.append(mailbox.username, raw_mail(subject=f"for {mailbox.username}"))

    results = poll_mailboxes()
    # The test database is SQLite in memory with shared-cache locks, where a concurrent write
    # fails at once ("locked") instead of waiting; the fetch then retries at the next poll.
    for _round in range(3):
        failed = [pk for pk, result in results.items() if result.startswith("error")]
        if not failed:
            break
        Mailbox.objects.filter(pk__in=failed).update(next_poll_at=clock.now())
        results = poll_mailboxes()
    # A message stored while another thread held the lock waits for the sweeper, as it would.
    for _round in range(3):
        if not process_pending():
            break

    assert sorted(r for r in results) == sorted(results)
    assert claim_due_mailboxes() == []  # fetched mailboxes are not due again yet
    assert Ticket.objects.count() == 4
    assert InboundMessage.objects.count() == 4
