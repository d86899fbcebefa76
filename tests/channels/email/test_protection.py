"""Loop protection, bounces, the rate limit and suspended tickets, quarantine and retry."""

import pytest

from kefu.channels.email import actions
from kefu.channels.email.models import EmailSettings, InboundMessage, OutboundMessage
from kefu.crm.models import Identity
from kefu.tickets import hooks
from kefu.tickets.actions import NewComment, update_ticket
from kefu.tickets.models import Comment, Ticket

from .conftest import raw_mail


@pytest.fixture
def notify_on_every_change():  # type: ignore[no-untyped-def]
    """A stand-in for a trigger: every ticket change notifies the requester by email."""

    def trigger(change: hooks.TicketChange) -> None:
        if change.depth == 0:
            actions.send_notification(
                ticket=change.ticket,
                recipients=[change.ticket.requester],
                subject_template="Updated: {{ ticket.title }}",
                body_template="{{ ticket.latest_public_comment }}",
                reason="test trigger",
            )

    hooks.register("test.notify", trigger, order=50)
    yield
    hooks._hooks.pop("test.notify")


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Precedence: bulk",
        "Precedence: auto_reply",
        "X-Autoreply: yes",
        "X-Autorespond: yes",
        "X-Auto-Response-Suppress: All",
        "List-Id: <news.example.com>",
        "List-Unsubscribe: <mailto:u@example.com>",
    ],
)
def test_automated_mail_becomes_a_ticket_but_gets_no_automatic_answer(
    personas, deliver, outbox, header
):
    name, value = header.split(": ", 1)

    inbound = deliver(raw_mail(subject="Out of office", headers={name: value}))

    assert inbound.state == "processed"
    assert inbound.automated
    assert inbound.ticket is not None
    assert outbox.messages == []


def test_mail_from_a_mailer_daemon_gets_no_answer(personas, deliver, outbox):
    deliver(raw_mail(sender="MAILER-DAEMON@mx.example.com", subject="Undelivered"))

    assert outbox.messages == []


def test_an_auto_reply_loop_stops_after_one_round(
    personas, deliver, outbox, notify_on_every_change
):
    # given: a customer writes; Kefu acknowledges (and the stand-in trigger notifies)
    first = deliver(raw_mail(subject="Help"))
    sent_before = len(outbox.messages)
    assert sent_before >= 1
    ack = outbox.parsed()[0]

    # when: the customer's autoresponder answers Kefu's mail, three times over
    for n in range(3):
        deliver(
            raw_mail(
                subject=f"Auto: {ack['Subject']} {n}",
                headers={"In-Reply-To": ack["Message-ID"], "Auto-Submitted": "auto-replied"},
            )
        )

    # then: the replies are on the ticket, and Kefu sent nothing more
    assert first.ticket.comments.count() == 4
    assert len(outbox.messages) == sent_before
    suppressed = OutboundMessage.objects.filter(state="suppressed")
    assert suppressed.count() == 3
    assert all("answering automated mail" in o.last_error for o in suppressed)


def test_mail_from_our_own_support_address_is_suspended(personas, deliver, outbox):
    inbound = deliver(raw_mail(sender="support@kefu.test"))

    assert inbound.state == "suspended"
    assert inbound.suspension_cause == "own_address"
    assert Ticket.objects.count() == 0


def test_a_sender_over_the_rate_limit_goes_to_suspended_tickets(personas, deliver, outbox):
    settings = EmailSettings.load()
    settings.sender_rate_limit = 3
    settings.save()

    results = [deliver(raw_mail(subject=f"spam {n}")) for n in range(5)]

    assert [r.state for r in results] == ["processed"] * 3 + ["suspended"] * 2
    assert Ticket.objects.count() == 3
    assert [m.subject for m in actions.suspended_tickets()] == ["spam 4", "spam 3"]


def test_a_suspended_message_can_be_recovered_or_deleted(personas, deliver, outbox):
    settings = EmailSettings.load()
    settings.sender_rate_limit = 1
    settings.save()
    deliver(raw_mail(subject="one"))
    keep = deliver(raw_mail(subject="two"))
    drop = deliver(raw_mail(subject="three"))

    assert actions.recover_suspended(keep) == "processed"
    actions.delete_suspended(drop)

    keep.refresh_from_db()
    drop.refresh_from_db()
    assert keep.ticket.subject == "two"
    assert drop.state == "deleted"
    assert bytes(drop.raw) == b""
    assert Ticket.objects.count() == 2


def dsn(*, original_message_id: str, failed: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.acme.test>\r\n"
        "To: support@kefu.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.acme.test>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\r\n\r\n'
        "--R\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--R\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.acme.test\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        "--R\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@kefu.test\r\nTo: {failed}\r\nMessage-ID: {original_message_id}\r\n"
        "Subject: [#1] whatever\r\n\r\n--R--\r\n"
    ).encode()


def test_a_bounce_marks_the_address_and_notes_the_ticket(
    personas, deliver, outbox, django_capture_on_commit_callbacks
):
    first = deliver(raw_mail(subject="Help"))
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(first.ticket, actor=personas.alice, comment=NewComment(body="Answer"))
    reply = OutboundMessage.objects.get(kind="reply")
    outbox.messages.clear()

    bounce = deliver(dsn(original_message_id=reply.message_id, failed="bob@acme.test"))

    assert bounce.state == "processed"
    assert bounce.ticket_id == first.ticket_id
    assert Identity.objects.get(value="bob@acme.test").bouncing
    reply.refresh_from_db()
    assert reply.state == "failed" and "5.1.1" in reply.last_error
    note = Comment.objects.filter(ticket=first.ticket, public=False).get()
    assert "bounced" in note.body and note.author == personas.alice
    assert Ticket.objects.count() == 1
    assert outbox.messages == []

    # and: no more mail to a bouncing address, until its owner writes again
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(first.ticket, actor=personas.alice, comment=NewComment(body="Again"))
    assert outbox.messages == []
    deliver(raw_mail(subject="I'm back"))
    assert not Identity.objects.get(value="bob@acme.test").bouncing


def test_no_acknowledgement_goes_to_a_bouncing_address_of_a_sender_who_wrote_from_another(
    personas, deliver, outbox
):
    from kefu.crm.actions import add_identity, set_identity_bouncing

    # given Bob's own address bounces, and he writes from his second address
    add_identity(user=personas.bob, type="email", value="bob@home.test")
    set_identity_bouncing(type="email", value="bob@acme.test", bouncing=True)

    inbound = deliver(raw_mail(sender="Bob <bob@home.test>", subject="From home"))

    # then his ticket is opened, but the acknowledgement (to bob@acme.test) is not sent
    assert inbound.ticket.requester == personas.bob
    assert OutboundMessage.objects.filter(ticket=inbound.ticket).count() == 0
    assert outbox.messages == []
    # while an address that just wrote to us is taken as working without asking
    deliver(raw_mail(sender="Bob <bob@acme.test>", subject="From work"))
    assert [to for _f, to, _raw in outbox.messages] == [["bob@acme.test"]]


# --- Quarantine ------------------------------------------------------------------------------


def test_a_message_without_a_sender_is_quarantined_with_its_reason(personas, deliver):
    inbound = deliver(b"To: support@kefu.test\r\nSubject: who am I\r\n\r\nbody\r\n")

    assert inbound.state == "quarantined"
    assert "no sender" in inbound.error
    assert bytes(inbound.raw).startswith(b"To: support@kefu.test")
    assert [m.pk for m in actions.failed_messages()] == [inbound.pk]


def test_a_processing_error_quarantines_one_message_and_the_next_flows(
    personas, deliver, monkeypatch
):
    from kefu.channels.email import inbound as pipeline

    real = pipeline.parse_email

    def buggy(raw: bytes):  # type: ignore[no-untyped-def]
        if b"poison" in raw:
            raise UnicodeError("a bug in the parser")
        return real(raw)

    monkeypatch.setattr(pipeline, "parse_email", buggy)

    bad = deliver(raw_mail(subject="poison"))
    good = deliver(raw_mail(subject="fine"))

    assert bad.state == "quarantined"
    assert "UnicodeError: a bug in the parser" in bad.error
    assert good.state == "processed"
    assert Ticket.objects.count() == 1

    # when: the bug is fixed and an admin retries
    monkeypatch.setattr(pipeline, "parse_email", real)
    assert actions.retry_inbound(bad) == "processed"
    bad.refresh_from_db()
    assert bad.ticket.subject == "poison"
    assert bad.attempts == 2


def test_malformed_mime_is_read_as_well_as_it_can_be(personas, deliver):
    raw = (
        b"From: =?utf-8?B?5byg5LiJ?= <zs@example.cn>\r\nTo: support@kefu.test\r\n"
        b"Subject: =?gb2312?B?suLK1A?==?gb2312?Q?=D6=D0?=\r\nMessage-ID: <broken@x>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
        b"no boundary at all\r\n\xd6\xd0\xce\xc4\r\n"
    )

    inbound = deliver(raw)

    assert inbound.state == "processed"
    assert inbound.ticket.subject == "测试中"
    assert inbound.ticket.requester.name == "张三"


def test_an_oversized_stored_message_is_processed_when_retried(personas, deliver, settings):
    settings.MAX_EMAIL_MB = 1
    inbound = deliver(raw_mail(body="y" * (1024 * 1024 + 1)))
    assert inbound.state == "quarantined"

    assert actions.retry_inbound(inbound) == "processed"
    assert InboundMessage.objects.get().ticket is not None


def test_a_database_hiccup_leaves_the_message_for_the_sweeper_not_in_quarantine(
    personas, deliver, monkeypatch
):
    from django.db import OperationalError

    from kefu.channels.email import inbound as pipeline

    real = pipeline.parse_email
    monkeypatch.setattr(
        pipeline, "parse_email", lambda raw: (_ for _ in ()).throw(OperationalError("locked"))
    )
    stuck = deliver(raw_mail(subject="during a lock"))
    assert stuck.state == "received" and not stuck.error  # a good message, not quarantined

    monkeypatch.setattr(pipeline, "parse_email", real)
    assert pipeline.process_pending() == 1
    stuck.refresh_from_db()
    assert stuck.state == "processed" and stuck.ticket.subject == "during a lock"
