"""Kefu's SMTP receiver, driven by smtplib over a real socket."""

import smtplib

import pytest

from kefu.channels.email.models import InboundMessage
from kefu.channels.email.smtpd import Receiver
from kefu.tickets.models import Comment, Ticket

from .conftest import SUPPORT, free_port, raw_mail


@pytest.fixture
def receiver(transactional_db, django_db_serialized_rollback, settings):  # type: ignore[no-untyped-def]
    settings.MAX_EMAIL_MB = 1
    server = Receiver(host="127.0.0.1", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_personas(transactional_db, django_db_serialized_rollback):  # type: ignore[no-untyped-def]
    from kefu.channels.email import actions

    from ...conftest import make_personas

    personas = make_personas()
    actions.create_support_address(email=SUPPORT, group=personas.support)
    return personas


def send(receiver: Receiver, raw: bytes, *, to: str = SUPPORT) -> dict:
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=30) as client:
        return client.sendmail("bob@acme.test", [to], raw)


def test_a_message_sent_by_smtp_becomes_a_ticket(smtp_personas, receiver):
    send(receiver, raw_mail(subject="Via SMTP", body="Hello over the wire"))

    inbound = InboundMessage.objects.get()
    assert inbound.state == "processed"
    assert inbound.source == "smtp"
    assert inbound.envelope_from == "bob@acme.test"
    assert Ticket.objects.get().subject == "Via SMTP"


def test_mail_for_an_unknown_recipient_is_refused_during_the_dialogue(smtp_personas, receiver):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(receiver, raw_mail(), to="nobody@kefu.test")

    code, _message = refused.value.recipients["nobody@kefu.test"]
    assert code == 550
    assert InboundMessage.objects.count() == 0


def test_plus_addresses_of_a_support_address_are_accepted(smtp_personas, receiver):
    send(receiver, raw_mail(), to="support+anything@kefu.test")

    assert InboundMessage.objects.get().recipient == "support+anything@kefu.test"


def test_an_oversized_message_is_accepted_and_quarantined_not_dropped(smtp_personas, receiver):
    big = raw_mail(body="x" * (1024 * 1024 + 10))

    send(receiver, big)

    inbound = InboundMessage.objects.get()
    assert inbound.state == "quarantined"
    assert "KEFU_MAX_EMAIL_MB" in inbound.error
    assert bytes(inbound.raw).rstrip() == big.rstrip()
    assert Ticket.objects.count() == 0


def test_a_message_over_the_hard_limit_is_refused_with_552(smtp_personas, receiver):
    huge = raw_mail(body="x" * (2 * 1024 * 1024 + 10))

    # smtplib announces the size (ESMTP SIZE), so the refusal comes at MAIL FROM already.
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(receiver, huge)

    assert refused.value.smtp_code == 552
    assert InboundMessage.objects.count() == 0


def test_a_duplicate_smtp_delivery_is_stored_and_processed_once(smtp_personas, receiver):
    raw = raw_mail(message_id="<dup-smtp@x>")

    send(receiver, raw)
    send(receiver, raw)

    assert InboundMessage.objects.count() == 1
    assert Comment.objects.count() == 1
