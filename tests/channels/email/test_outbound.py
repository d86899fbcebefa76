"""Outbound mail, captured by a real SMTP server started for the test."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kefu.channels.email import actions
from kefu.channels.email.folding import REPLY_MARKER
from kefu.channels.email.models import OutboundMessage
from kefu.channels.email.outbound import retry_due_outbound
from kefu.core import clock
from kefu.tickets.actions import NewComment, TicketData, create_ticket, create_upload, update_ticket
from kefu.tickets.models import Comment

from .conftest import SUPPORT, raw_mail


@pytest.fixture
def committed(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Run what the block schedules after commit (sending), as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def emailed_ticket(personas, deliver, outbox):  # type: ignore[no-untyped-def]
    inbound = deliver(raw_mail(message_id="<start@acme.test>", subject="Broken printer"))
    outbox.messages.clear()  # the acknowledgement
    return inbound.ticket


def test_a_new_emailed_ticket_gets_an_acknowledgement_with_its_number(personas, deliver, outbox):
    inbound = deliver(raw_mail(message_id="<ack@acme.test>", subject="Broken printer"))

    [message] = outbox.parsed()
    ticket = inbound.ticket
    assert message["To"] == "bob@acme.test"
    assert f"[#{ticket.pk}]" in message["Subject"]
    assert message["In-Reply-To"] == "<ack@acme.test>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Reply-To"].startswith("support+t")
    text = message.get_body(("plain",)).get_content()
    assert f"#{ticket.pk}" in text
    assert "Broken printer" in message["Subject"]
    assert OutboundMessage.objects.get(ticket=ticket).state == "sent"


def test_a_customer_replying_to_the_acknowledgement_threads_back(personas, deliver, outbox):
    first = deliver(raw_mail(subject="Broken printer"))
    [ack] = outbox.parsed()

    reply = deliver(
        raw_mail(
            subject="Re: " + ack["Subject"],
            body="More details",
            headers={"In-Reply-To": ack["Message-ID"]},
        )
    )

    assert reply.ticket_id == first.ticket_id


def test_an_agent_public_reply_goes_to_the_requester_and_ccs(
    personas, emailed_ticket, outbox, committed
):
    with committed():
        update_ticket(
            emailed_ticket, actor=personas.admin, data=TicketData(email_ccs=[personas.carol])
        )
    outbox.messages.clear()
    upload = create_upload(uploader=personas.alice, file_name="手册.pdf", content=b"%PDF manual")

    with committed():
        with_capture = update_ticket(
            emailed_ticket,
            actor=personas.alice,
            comment=NewComment(html_body="<p>Please <b>restart</b> it.</p>", attachments=[upload]),
        )

    assert with_capture
    [message] = outbox.parsed()
    assert message["To"] == "bob@acme.test"
    assert message["Cc"] == "carol@globex.test"
    assert message["From"].startswith("Alice")
    assert SUPPORT in message["From"]
    assert message["In-Reply-To"] == "<start@acme.test>"
    assert "<start@acme.test>" in message["References"]
    assert message["Subject"] == f"Re: [#{emailed_ticket.pk}] Broken printer" or (
        f"[#{emailed_ticket.pk}]" in message["Subject"]
    )
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert plain.startswith(REPLY_MARKER)
    assert "restart" in plain and "<b>restart</b>" in html
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "手册.pdf"
    assert attachment.get_content() == b"%PDF manual"


def test_internal_notes_and_customer_comments_are_not_emailed(
    committed, personas, emailed_ticket, outbox
):
    with committed():
        update_ticket(
            emailed_ticket, actor=personas.alice, comment=NewComment(body="internal", public=False)
        )
    with committed():
        update_ticket(emailed_ticket, actor=personas.bob, comment=NewComment(body="from bob"))

    assert outbox.messages == []


def test_the_customers_answer_to_a_reply_threads_and_the_marker_is_cut(
    committed, personas, emailed_ticket, deliver, outbox
):
    with committed():
        update_ticket(emailed_ticket, actor=personas.alice, comment=NewComment(body="Try this."))
    [reply] = outbox.parsed()
    answer = f"It worked!\r\n\r\n{REPLY_MARKER}\r\n\r\nAlice 王:\r\nTry this."

    inbound = deliver(
        raw_mail(subject="Re: whatever", body=answer, headers={"In-Reply-To": reply["Message-ID"]})
    )

    assert inbound.ticket_id == emailed_ticket.pk
    assert inbound.comment.body == "It worked!"


def test_a_failing_send_is_retried_with_backoff_then_noted_on_the_ticket(
    committed, personas, emailed_ticket, outbox
):
    outbox.refuse = "451 4.3.0 try later"
    with committed():
        update_ticket(emailed_ticket, actor=personas.alice, comment=NewComment(body="Hello"))
    outbound = OutboundMessage.objects.get(kind="reply")
    assert outbound.state == "retrying"
    assert "451" in outbound.last_error

    start = clock.now()
    for minutes in (2, 10, 30, 120, 600):
        with clock.frozen_at(start + dt.timedelta(minutes=minutes * 3)):
            retry_due_outbound()
        start = start + dt.timedelta(minutes=minutes * 3)

    outbound.refresh_from_db()
    assert outbound.state == "failed"
    assert outbound.attempts == 6
    note = Comment.objects.filter(ticket=emailed_ticket, public=False).last()
    assert note is not None and "could not be sent" in note.body
    assert outbox.messages == []


def test_a_permanent_refusal_fails_at_once(committed, personas, emailed_ticket, outbox):
    outbox.refuse = "554 5.7.1 rejected"

    with committed():
        update_ticket(emailed_ticket, actor=personas.alice, comment=NewComment(body="Hello"))

    outbound = OutboundMessage.objects.get(kind="reply")
    assert outbound.state == "failed"
    assert outbound.attempts == 1


def test_a_sent_email_is_never_sent_twice(committed, personas, emailed_ticket, outbox):
    with committed():
        update_ticket(emailed_ticket, actor=personas.alice, comment=NewComment(body="Once"))
    outbound = OutboundMessage.objects.get(kind="reply")

    from kefu.channels.email.outbound import send_outbound

    assert send_outbound(outbound.pk) == "sent"
    assert len(outbox.messages) == 1


def test_tickets_from_other_channels_get_replies_by_email_from_the_default_address(
    personas, support_address, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = create_ticket(
            actor=personas.bob,
            data=TicketData(subject="Portal question"),
            comment=NewComment(body="From the portal"),
        )
        update_ticket(ticket, actor=personas.alice, comment=NewComment(body="Answer"))

    [message] = outbox.parsed()
    assert message["To"] == "bob@acme.test"
    assert SUPPORT in message["From"]


# --- Templates and notifications --------------------------------------------------------------


def test_send_notification_renders_placeholders_per_recipient(
    personas, emailed_ticket, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_notification(
            ticket=emailed_ticket,
            recipients=[personas.bob, personas.alice],
            subject_template="Update on {{ ticket.title }}",
            body_template="Hi {{ recipient.name }}, #{{ ticket.id }} by {{ticket.requester.name}}",
            reason="trigger 1",
        )

    messages = {m["To"]: m for m in outbox.parsed()}
    bob = messages["bob@acme.test"].get_body(("plain",)).get_content()
    alice = messages["alice@kefu.test"].get_body(("plain",)).get_content()
    assert f"Hi Bob, #{emailed_ticket.pk} by Bob" in bob
    assert "Hi Alice 王" in alice
    assert (
        messages["bob@acme.test"]["Subject"] == f"[#{emailed_ticket.pk}] Update on Broken printer"
    )


def test_ticket_content_can_never_inject_template_syntax(personas, deliver, outbox):
    inbound = deliver(
        raw_mail(
            subject="{{ ticket.requester.email }} {% debug %}",
            body="{% load static %}{{ settings.SECRET_KEY }}",
        )
    )

    [ack] = outbox.parsed()
    text = ack.get_body(("plain",)).get_content()
    assert "{% load static %}{{ settings.SECRET_KEY }}" in text
    assert "{{ ticket.requester.email }} {% debug %}" in ack["Subject"]
    assert inbound.ticket is not None


@pytest.mark.parametrize(
    "template",
    ["{% if 1 %}x{% endif %}", "{{ ticket.title|upper }}", "{% load static %}", "{% debug %}"],
)
def test_templates_with_tags_or_filters_are_refused(personas, emailed_ticket, template):
    with pytest.raises(ValidationError) as refused:
        actions.send_notification(
            ticket=emailed_ticket,
            recipients=[personas.bob],
            subject_template="s",
            body_template=template,
            reason="r",
        )

    assert "body_template" in refused.value.message_dict


def test_the_acknowledgement_speaks_the_customers_language(personas, deliver, outbox):
    deliver(raw_mail(sender="王小明 <wang@example.cn>", subject="打印机坏了", body="请帮忙"))

    [ack] = outbox.parsed()
    assert "我们已收到您的请求" in ack["Subject"]
    assert "工单编号" in ack.get_body(("plain",)).get_content()


def test_the_admins_expected_response_text_is_in_the_acknowledgement(personas, deliver, outbox):
    from kefu.channels.email.models import EmailSettings

    settings = EmailSettings.load()
    settings.expected_response = "We answer within 4 hours."
    settings.save()

    deliver(raw_mail())

    [ack] = outbox.parsed()
    assert "We answer within 4 hours." in ack.get_body(("plain",)).get_content()


def test_links_in_mail_use_kefu_base_url_not_a_hardcoded_host(
    personas, deliver, outbox, settings, django_capture_on_commit_callbacks
):
    # given Kefu served at its public address
    settings.BASE_URL = "https://help.acme.cn"
    inbound = deliver(raw_mail(message_id="<links@acme.test>", subject="Broken printer"))
    ticket = inbound.ticket
    portal = f"https://help.acme.cn/portal/requests/{ticket.pk}/"
    agent = f"https://help.acme.cn/agent/tickets/{ticket.pk}/"
    # when an agent replies and a rule notifies the requester and an agent
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket, actor=personas.alice, comment=NewComment(body="Try this."))
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_notification(
            ticket=ticket,
            recipients=[personas.bob, personas.alice],
            subject_template="Update",
            body_template="See {{ ticket.url }}",
            reason="trigger",
        )
    # then every link goes to the configured host, customers to the portal, agents to the
    # workspace, and the paths are the ones Kefu serves
    messages = outbox.parsed()
    bodies = [m.get_body(("plain",)).get_content() for m in messages]
    assert len(bodies) == 4  # acknowledgement, reply, two notifications
    assert all("127.0.0.1" not in body and "localhost" not in body for body in bodies)
    by_to = [(m["To"], body) for m, body in zip(messages, bodies, strict=True)]
    assert portal in by_to[1][1]  # the reply (the acknowledgement has no link)
    assert f"See {portal}" in dict(by_to[2:])["bob@acme.test"]
    assert f"See {agent}" in dict(by_to[2:])["alice@kefu.test"]
    html = messages[1].get_body(("html",)).get_content()
    assert f'href="{portal}"' in html


def test_emails_share_one_smtp_session_and_a_closed_one_is_reopened(
    personas, deliver, settings, django_capture_on_commit_callbacks
):
    from aiosmtpd.controller import Controller

    from .conftest import Captured, free_port

    # given a real SMTP server
    port = free_port()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    first = Captured()
    controller = Controller(first, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        # when three emails go out one after another
        for n in range(3):
            deliver(raw_mail(subject=f"Question {n}"))  # each acknowledged
        # then they came through one session
        assert len(first.messages) == 3
        assert len({id(session) for session in first.sessions}) == 1
    finally:
        controller.stop()
    # when the server restarts (the open session is dead) the next email still goes out
    second = Captured()
    controller = Controller(second, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        inbound = deliver(raw_mail(subject="After the restart"))
        assert len(second.messages) == 1
        assert OutboundMessage.objects.get(ticket=inbound.ticket).state == "sent"
    finally:
        controller.stop()


def _read(raw: bytes):  # type: ignore[no-untyped-def]
    import email
    from email import policy

    message = email.message_from_bytes(raw, policy=policy.default)
    headers = {
        name: str(message[name])
        for name in ("Subject", "From", "To", "Cc", "Reply-To", "Message-ID", "In-Reply-To",
                     "References", "Auto-Submitted", "X-Kefu-Ticket-Id", "Content-Type")
    }  # fmt: skip
    headers["Content-Type"] = headers["Content-Type"].split(";")[0]
    bodies = [part.get_content() for part in message.walk() if not part.is_multipart()]
    return headers, bodies


def test_emails_are_composed_cheaply_and_read_as_djangos_composition():
    from django.core.mail import EmailMultiAlternatives

    from kefu.channels.email.outbound import wire_bytes

    # given a Chinese acknowledgement-like email with CCs, thread headers and an HTML part
    message = EmailMultiAlternatives(
        subject="[#12] 我们已收到您的请求：打印机又坏了 " + "很长的主题" * 12,
        body="王小明，您好：\n\n感谢您的来信。\n",
        from_email="=?utf-8?b?5a6i5pyN?= <support@kefu.test>",
        to=["bob@acme.test"],
        cc=["carol@globex.test", "dora@acme.test"],
        reply_to=["support+t12-abc@kefu.test"],
        headers={
            "Message-ID": "<kefu.12.abc@kefu.test>",
            "In-Reply-To": "<m1@acme.test>",
            "References": " ".join(f"<m{n}@acme.test>" for n in range(20)),
            "Auto-Submitted": "auto-replied",
            "X-Kefu-Ticket-Id": "12",
        },
    )
    message.attach_alternative("<p>王小明，您好：</p><p>感谢您的来信。</p>", "text/html")

    # when it is composed for the wire
    wire = wire_bytes(message)

    # then the envelope is the addresses, and a reader sees what Django would have written
    assert wire is not None
    sender, recipients, raw = wire
    assert sender == "support@kefu.test"
    assert recipients == ["bob@acme.test", "carol@globex.test", "dora@acme.test"]
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert _read(raw) == _read(message.message().as_bytes())


def test_emails_with_attachments_or_odd_addresses_are_left_to_django():
    from django.core.mail import EmailMultiAlternatives

    from kefu.channels.email.outbound import wire_bytes

    with_file = EmailMultiAlternatives(
        subject="s", body="b", from_email="a@kefu.test", to=["b@x.test"]
    )
    with_file.attach("说明.txt", b"hello", "text/plain")
    assert wire_bytes(with_file) is None
    idn = EmailMultiAlternatives(subject="s", body="b", from_email="a@kefu.test", to=["b@例子.cn"])
    assert wire_bytes(idn) is None
    injected = EmailMultiAlternatives(
        subject="s\r\nBcc: x@evil.test", body="b", from_email="a@kefu.test", to=["b@x.test"]
    )
    assert wire_bytes(injected) is None
