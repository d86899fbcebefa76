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


def test_kefu_run_starts_the_receiver_only_when_kefu_smtp_listen_is_set(smtp_personas, settings):
    from kefu.channels.email.smtpd import start_if_configured

    settings.SMTP_LISTEN = ""
    assert start_if_configured() is None

    port = free_port()
    settings.SMTP_LISTEN = f"127.0.0.1:{port}"
    receiver = start_if_configured()
    assert receiver is not None
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.sendmail("bob@acme.test", [SUPPORT], raw_mail(subject="via kefu run"))
    finally:
        receiver.stop()
    assert Ticket.objects.get().subject == "via kefu run"


def test_a_support_address_is_checked_once_per_few_seconds_an_unknown_one_every_time(
    smtp_personas, receiver, monkeypatch
):
    from kefu.channels.email import actions, smtpd

    checked: list[str] = []
    real = smtpd.is_support_address

    def counting(address: str) -> bool:
        checked.append(address)
        return real(address)

    monkeypatch.setattr(smtpd, "is_support_address", counting)
    # a known recipient: the first message asks, the next ones within the window do not
    send(receiver, raw_mail(subject="one"))
    send(receiver, raw_mail(subject="two"))
    assert checked == [SUPPORT]
    # an unknown one is asked about every time, so an address added since works at once
    for _ in range(2):
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            send(receiver, raw_mail(), to="sales@kefu.test")
    actions.create_support_address(email="sales@kefu.test")
    send(receiver, raw_mail(subject="three"), to="sales@kefu.test")
    assert checked == [SUPPORT, "sales@kefu.test", "sales@kefu.test", "sales@kefu.test"]
    assert Ticket.objects.count() == 3
