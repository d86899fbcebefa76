"""Outbound mail: agent replies, notifications and acknowledgements.

Every email is first an ``OutboundMessage`` row written in the caller's transaction (its
Message-ID fixed before it leaves, so replies to it thread); ``send_outbound`` runs after the
commit as a task. A failed attempt is retried with backoff (1, 5, 15, 60, 240 minutes) by the
scheduler job ``email.retry_outbound``; after the last attempt the message is ``failed`` and an
internal note on the ticket says so.

Which tickets get agent replies by email: every ticket whose requester has an email address —
as in Zendesk, where a reply on a web-form or API ticket also reaches the customer by email.
Addresses marked as bouncing are left out.
"""

import contextlib
import datetime as dt
import email.policy
import logging
import secrets
import smtplib
import threading
from collections.abc import Callable, Iterable
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, EmailMultiAlternatives, mailers
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.utils import DNS_NAME
from django.db import connection, transaction
from django.db.models import F
from django.tasks import task
from django.utils.html import escape
from django.utils.timezone import get_current_timezone

from kefu.accounts.choices import Role
from kefu.accounts.models import User
from kefu.core import clock
from kefu.core.html import sanitize_html
from kefu.core.queueing import enqueue_with_commit
from kefu.crm.actions import set_identity_bouncing
from kefu.crm.choices import IdentityType
from kefu.crm.models import Identity
from kefu.tickets import hooks
from kefu.tickets.actions import NewComment, TicketData, update_ticket
from kefu.tickets.choices import Channel
from kefu.tickets.models import Attachment, Comment, Ticket

from . import config, pump
from .addresses import default_support_address, find_support_address, reply_address
from .choices import OutboundKind, OutboundState
from .defaults import DEFAULT_EXPECTED_RESPONSE
from .folding import REPLY_MARKER
from .inbound import key_of
from .models import InboundMessage, OutboundMessage, SupportAddress
from .protection import Bounce, automatic_mail_suppressed
from .rendering import (
    check_template,
    locale_of,
    render_html,
    render_text,
    ticket_context,
    ticket_url,
)

log = logging.getLogger(__name__)

BACKOFF_MINUTES = (1, 5, 15, 60, 240)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024  # in total per email; larger files stay as links
STUCK_SENDING = dt.timedelta(minutes=10)

# Who says when a customer can expect an answer (the SLA app registers one): (ticket, locale)
# -> text, or None to let the next one (and finally the admin's text) speak.
EXPECTED_RESPONSE_PROVIDERS: list[Callable[[Ticket, str], str | None]] = []


# --- Addresses --------------------------------------------------------------------------------


def support_address_of(ticket: Ticket) -> SupportAddress | None:
    """The address the ticket's conversation uses: where it was sent to, else the default."""
    to = (ticket.via_source or {}).get("to") or {}
    address = to.get("address") if isinstance(to, dict) else None
    found = find_support_address(address) if address else None
    return found or default_support_address()


def _bouncing(addresses: Iterable[str]) -> set[str]:
    return set(
        Identity.objects.filter(
            type=IdentityType.EMAIL, value__in=list(addresses), bouncing=True
        ).values_list("value", flat=True)
    )


def _deliverable(
    people: Iterable[User], *, exclude: User | None = None, reachable: bool = False
) -> list[User]:
    """The people mail can go to. ``reachable``: the caller knows none of their addresses is
    bouncing (no query)."""
    seen: dict[str, User] = {}
    for person in people:
        if not person.email or (exclude is not None and person.pk == exclude.pk):
            continue
        if not person.is_active or person.suspended:
            continue
        seen.setdefault(person.email, person)
    bouncing = _bouncing(seen) if seen and not reachable else set()
    return [p for email, p in seen.items() if email not in bouncing]


def _thread_headers(ticket: Ticket) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for the next email on ``ticket``."""
    # One raw statement for both tables (every outgoing email asks; two ORM queries cost
    # twice the compilation). Times come back as text on SQLite (Django's stored form sorts
    # as the times do) and as datetimes on PostgreSQL; they are only compared.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 0, received_at, id, message_id FROM {InboundMessage._meta.db_table}"  # noqa: S608 - table names
            " WHERE ticket_id = %s AND message_id <> ''"
            f" UNION ALL SELECT 1, created_at, id, message_id FROM {OutboundMessage._meta.db_table}"
            " WHERE ticket_id = %s",
            [ticket.pk, ticket.pk],
        )
        rows = cursor.fetchall()
    inbound = sorted((at, pk, m) for kind, at, pk, m in rows if kind == 0)
    outbound = sorted((at, pk, m) for kind, at, pk, m in rows if kind == 1)
    chain = [m for _at, _pk, m in sorted(inbound + outbound, key=lambda row: row[0])]
    chain = list(dict.fromkeys(chain))
    references = chain[:1] + chain[1:][-19:] if chain else []
    in_reply_to = inbound[-1][2] if inbound else (chain[-1] if chain else "")
    return in_reply_to, references


def _new_message_id(ticket: Ticket, address: SupportAddress | None) -> str:
    domain = (address.email if address else settings.DEFAULT_FROM_EMAIL).rpartition("@")[2]
    domain = domain or urlsplit(settings.BASE_URL).hostname or "localhost"
    return f"<kefu.{ticket.pk}.{secrets.token_hex(8)}@{domain}>"


def _tagged(subject: str, ticket: Ticket) -> str:
    tag = f"[#{ticket.pk}]"
    return subject if tag in subject else f"{tag} {subject}"


def _create(
    *,
    ticket: Ticket,
    kind: str,
    recipients: list[User],
    cc: list[User],
    subject: str,
    text: str,
    html: str,
    from_name: str,
    comment: Comment | None = None,
    reason: str = "",
    automatic: bool,
    thread: tuple[str, list[str]] | None = None,
) -> OutboundMessage:
    address = support_address_of(ticket)
    in_reply_to, references = thread if thread is not None else _thread_headers(ticket)
    message_id = _new_message_id(ticket, address)
    from_email = address.email if address else settings.DEFAULT_FROM_EMAIL
    headers = {"X-Kefu-Ticket-Id": str(ticket.pk)}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
    if references:
        headers["References"] = " ".join(references)
    if address is not None:
        headers["Reply-To"] = reply_address(address, ticket.pk)
    suppressed = automatic_mail_suppressed() if automatic else ""
    if automatic:
        headers["Auto-Submitted"] = (
            "auto-generated" if kind != OutboundKind.ACKNOWLEDGEMENT else ("auto-replied")
        )
        headers["X-Auto-Response-Suppress"] = "All"
    outbound = OutboundMessage.objects.create(
        ticket=ticket,
        comment=comment,
        kind=kind,
        reason=reason[:255],
        message_id=message_id,
        message_key=key_of(message_id),
        from_address=formataddr((from_name, from_email)) if from_name else from_email,
        recipients=[p.email for p in recipients],
        cc=[p.email for p in cc],
        subject=_tagged(subject, ticket)[:500],
        body_text=text,
        body_html=html,
        headers=headers,
        state=OutboundState.SUPPRESSED if suppressed else OutboundState.PENDING,
        last_error=f"Not sent: answering automated mail ({suppressed})" if suppressed else "",
        created_at=clock.now(),
    )
    if not suppressed and pump.runs():
        # A worker's mail pump sends it (no task row); one in this process looks after commit.
        transaction.on_commit(pump.wake)
    elif not suppressed:
        enqueue_with_commit(send_outbound_task, outbound.pk)
    return outbound


def _marker_html() -> str:
    return f'<div style="color:#b5b5b5;font-size:12px">{escape(REPLY_MARKER)}</div>'


# --- Agent replies (a ticket hook) ------------------------------------------------------------


def deliver_reply(change: hooks.TicketChange) -> None:
    """Ticket hook: an agent's public comment goes to the requester and CCs by email."""
    comment = change.comment
    if comment is None or not comment.public or change.kind not in ("create", "update"):
        return
    if change.via_channel == Channel.IMPORT or not comment.author.is_agent:
        return
    # A ticket just created without CCs has none, unless a trigger's change added some.
    no_ccs = change.notes.get("email_cc_ids") == [] and not hooks.rewritten(change.ticket.pk)
    queue_reply(comment=comment, ccs=[] if no_ccs else None)


def queue_reply(*, comment: Comment, ccs: list[User] | None = None) -> OutboundMessage | None:
    """Email a public agent comment to its ticket's requester and CCs (after commit).
    ``ccs``: the ticket's CCs when the caller knows them (default: read them)."""
    ticket = comment.ticket
    author = comment.author
    to = _deliverable([ticket.requester], exclude=author)
    cc = _deliverable(ticket.email_ccs.all() if ccs is None else ccs, exclude=author)
    cc = [p for p in cc if p not in to]
    if not to and not cc:
        return None
    if not to:
        to, cc = cc[:1], cc[1:]
    address = support_address_of(ticket)
    from_name = f"{author.name} ({address.name})" if address and address.name else author.name
    url = ticket_url(ticket, for_agent=False)
    text = (
        f"{REPLY_MARKER}\n\n{author.name}:\n\n{comment.body}\n\n"
        f"--\n[#{ticket.pk}] {ticket.subject}\n{url}\n"
    )
    html = (
        f"{_marker_html()}<p><strong>{escape(author.name)}</strong></p>"
        f"{sanitize_html(comment.html_body)}"
        f'<hr><p style="color:#888;font-size:12px">[#{ticket.pk}] {escape(ticket.subject)}'
        f' · <a href="{escape(url)}">{escape(url)}</a></p>'
    )
    return _create(
        ticket=ticket,
        kind=OutboundKind.REPLY,
        recipients=to,
        cc=cc,
        subject=f"Re: {ticket.subject}",
        text=text,
        html=html,
        from_name=from_name,
        comment=comment,
        automatic=False,
    )


# --- Notifications and acknowledgements -------------------------------------------------------


def send_notification(
    *,
    ticket: Ticket,
    recipients: Iterable[User],
    subject_template: str,
    body_template: str,
    reason: str,
) -> list[OutboundMessage]:
    """Email ``recipients`` about ``ticket`` — the public entry point for rules (triggers).

    The templates are admin text with ``{{ placeholders }}`` (docs/email.md lists them),
    rendered per recipient in a sandbox: no tags, no filters, only precomputed strings.
    One ``OutboundMessage`` per recipient, created in the caller's transaction and sent after
    commit with retries. People without an email address, inactive or bouncing ones are
    skipped. While Kefu processes an automated message (an auto-reply, a list mail), nothing
    is sent: the rows are recorded as ``suppressed``, so two robots never write to each other.
    ``reason`` (say, the trigger's name) is kept on the row. Raises ValidationError naming
    ``subject_template``/``body_template`` for a template that is not plain placeholders.
    """
    return _notify(
        ticket=ticket,
        recipients=recipients,
        subject_template=subject_template,
        body_template=body_template,
        reason=reason,
        kind=OutboundKind.NOTIFICATION,
    )


def _notify(
    *,
    ticket: Ticket,
    recipients: Iterable[User],
    subject_template: str,
    body_template: str,
    reason: str,
    kind: str,
    thread: tuple[str, list[str]] | None = None,
    latest_public_comment: str | None = None,
    reachable: bool = False,
) -> list[OutboundMessage]:
    check_template(subject_template, field="subject_template")
    check_template(body_template, field="body_template")
    sent: list[OutboundMessage] = []
    address = support_address_of(ticket)
    for person in _deliverable(recipients, reachable=reachable):
        context = ticket_context(
            ticket,
            recipient=person,
            expected_response=_expected(ticket, person),
            latest_public_comment=latest_public_comment,
        )
        text = render_text(body_template, context)
        html = render_html(body_template, context)
        if not person.is_agent:
            text = f"{REPLY_MARKER}\n\n{text}"
            html = _marker_html() + html
        sent.append(
            _create(
                ticket=ticket,
                kind=kind,
                recipients=[person],
                cc=[],
                subject=" ".join(render_text(subject_template, context).split()),
                text=text,
                html=html,
                from_name=address.name if address else "",
                reason=reason,
                automatic=True,
                thread=thread,
            )
        )
    return sent


def _expected(ticket: Ticket, person: User) -> str:
    locale = locale_of(person)
    for provider in EXPECTED_RESPONSE_PROVIDERS:
        text = provider(ticket, locale)
        if text:
            return text
    return config.current().settings.expected_response or DEFAULT_EXPECTED_RESPONSE.get(
        locale, DEFAULT_EXPECTED_RESPONSE["en"]
    )


def queue_acknowledgement(
    *,
    ticket: Ticket,
    recipient: User,
    answering: str = "",
    first_comment: str | None = None,
    reachable: bool = False,
) -> OutboundMessage | None:
    """The automatic "we received your request #123" reply to a new emailed ticket.

    ``answering`` (the Message-ID of the message that opened the ticket) and ``first_comment``
    (its text), when the caller has them, save reading the ticket's thread back;
    ``reachable``: the recipient's address just wrote to us (it is not bouncing)."""
    from .rendering import template_for

    if not config.current().settings.acknowledge_new_tickets:
        return None
    locale = locale_of(recipient)
    subject, body = template_for("acknowledgement", locale)
    messages = _notify(
        ticket=ticket,
        recipients=[recipient],
        subject_template=subject,
        body_template=body,
        reason="acknowledgement",
        kind=OutboundKind.ACKNOWLEDGEMENT,
        # A new ticket's thread is the one message that opened it.
        thread=(answering, [answering]) if answering else None,
        latest_public_comment=first_comment,
        reachable=reachable,
    )
    return messages[0] if messages else None


# --- Sending ----------------------------------------------------------------------------------


def compose(outbound: OutboundMessage) -> EmailMultiAlternatives:
    headers = dict(outbound.headers)
    reply_to = [headers.pop("Reply-To")] if "Reply-To" in headers else []
    headers["Message-ID"] = outbound.message_id
    message = EmailMultiAlternatives(
        subject=outbound.subject,
        body=outbound.body_text,
        from_email=outbound.from_address,
        to=outbound.recipients,
        cc=outbound.cc,
        reply_to=reply_to,
        headers=headers,
    )
    if outbound.body_html:
        message.attach_alternative(outbound.body_html, "text/html")
    if outbound.comment_id is not None:
        total = 0
        for attachment in Attachment.objects.filter(comment_id=outbound.comment_id):
            if total + attachment.size > MAX_ATTACHMENT_BYTES:
                continue
            try:
                with attachment.file.open("rb") as handle:
                    data = handle.read()
            except FileNotFoundError:
                continue
            total += len(data)
            message.attach(attachment.file_name, data, attachment.content_type)
    return message


# Headers are written with the legacy (compat32) API: the modern one (policy.default, which
# Django's EmailMessage.message() uses) re-parses every header it is given and cost ~2.5 ms of
# CPU per acknowledgement, about as much as the ticket's own SQL. The result is the same
# MIME: RFC 2047 encoded words for non-ASCII subjects, base64 UTF-8 bodies, CRLF lines.
_WIRE_POLICY = email.policy.compat32.clone(linesep="\r\n")
_ADDRESS_HEADERS = {"from", "to", "cc", "reply-to", "bcc"}


def wire_bytes(message: EmailMessage) -> tuple[str, list[str], bytes] | None:
    """(envelope sender, recipients, bytes) of a text/HTML email, built cheaply; None when
    Django's own composition is needed (attachments, other alternatives, non-ASCII
    addresses, a header with a line break — Django refuses those)."""
    alternatives = getattr(message, "alternatives", [])
    if message.attachments or any(m != "text/html" for _c, m in alternatives):
        return None
    headers = {str(k): str(v) for k, v in message.extra_headers.items()}
    addresses = [message.from_email, *message.to, *message.cc, *message.bcc, *message.reply_to]
    values = [message.subject, *addresses, *headers.values()]
    if not all(a.isascii() for a in addresses) or any("\n" in v or "\r" in v for v in values):
        return None
    if any(name.lower() in _ADDRESS_HEADERS for name in headers):
        return None
    charset = message.encoding or settings.DEFAULT_CHARSET

    def part(text: str, subtype: str) -> MIMEText:
        # As Django's composition (email's set_content): a body ends with a line break.
        return MIMEText(text if text.endswith("\n") else text + "\n", subtype, charset)

    root: Message = part(str(message.body), "plain")
    if alternatives:
        alternative = MIMEMultipart("alternative")
        alternative.attach(root)
        for content, _mimetype in alternatives:
            alternative.attach(part(str(content), "html"))
        root = alternative
    subject = str(message.subject)
    root["Subject"] = subject if subject.isascii() else Header(subject, charset)  # type: ignore[assignment]
    root["From"] = message.from_email
    if message.to:
        root["To"] = ", ".join(message.to)
    if message.cc:
        root["Cc"] = ", ".join(message.cc)
    if message.reply_to:
        root["Reply-To"] = ", ".join(message.reply_to)
    names = {name.lower() for name in headers}
    if "date" not in names:
        zone = get_current_timezone() if settings.EMAIL_USE_LOCALTIME else dt.UTC
        root["Date"] = format_datetime(dt.datetime.now(zone))
    if "message-id" not in names:
        root["Message-ID"] = make_msgid(domain=DNS_NAME)
    for name, value in headers.items():
        root[name] = value
    data = root.as_bytes(policy=_WIRE_POLICY)
    sender = parseaddr(message.from_email)[1]
    return sender, [a for a in (*message.to, *message.cc, *message.bcc) if a], data


_mailer = threading.local()
# Some providers refuse more messages per connection than this (QQ, Exchange): start a new
# session before reaching it.
MAX_PER_SESSION = 50


def _quietly_close(mailer: object) -> None:
    with contextlib.suppress(Exception):  # closing a connection that already failed
        mailer.close()  # type: ignore[attr-defined]


def _deliver(message: EmailMultiAlternatives) -> None:
    """Send through this thread's mailer, keeping its SMTP session open between emails
    (connecting and EHLO cost about as much as sending a small message). A session the
    server has closed since is noticed with NOOP before use and opened again; after any
    failure the session is dropped, so the next attempt starts clean."""
    key = repr(getattr(settings, "MAILERS", {}).get("default"))
    mailer = getattr(_mailer, "backend", None)
    if mailer is None or getattr(_mailer, "key", None) != key:
        if mailer is not None:
            _quietly_close(mailer)
        mailer = mailers["default"]
        _mailer.backend, _mailer.key = mailer, key
    session = getattr(mailer, "connection", None)
    if session is not None:
        try:
            alive = session.noop()[0] == 250 and _mailer.sent < MAX_PER_SESSION
        except Exception:
            alive = False
        if not alive:
            _quietly_close(mailer)
    if getattr(mailer, "connection", None) is None:
        _mailer.sent = 0
    try:
        mailer.open()
        session = mailer.connection if isinstance(mailer, SMTPBackend) else None
        if session is not None and (wire := wire_bytes(message)) is not None:
            session.sendmail(*wire)
        else:
            mailer.send_messages([message])
        _mailer.sent += 1
    except Exception:
        _quietly_close(mailer)
        raise


@task()
def send_outbound_task(outbound_id: int) -> str:
    return send_outbound(outbound_id)


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600 and exc.smtp_code not in (552,)
    return False


def send_outbound(outbound_id: int) -> str:
    """Send one outbound email if it is due; idempotent (a sent one is never sent again)."""
    now = clock.now()
    claimed = OutboundMessage.objects.filter(
        pk=outbound_id,
        state__in=[OutboundState.PENDING, OutboundState.RETRYING],
        next_attempt_at__lte=now,
    ).update(state=OutboundState.SENDING, attempts=F("attempts") + 1, next_attempt_at=now)
    outbound = OutboundMessage.objects.select_related("ticket").get(pk=outbound_id)
    if not claimed:
        return outbound.state
    return _send_claimed(outbound)


def send_due(*, limit: int = 20) -> int:
    """Claim up to ``limit`` due emails in one statement and send them (the mail pump);
    return how many were claimed. Claimed like ``send_outbound`` claims one (``sending``,
    one attempt more), so two pumps never send the same email."""
    now = clock.now()
    table = OutboundMessage._meta.db_table
    when = connection.ops.adapt_datetimefield_value(now)
    # PostgreSQL: skip rows another pump is claiming right now instead of waiting for it.
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s, attempts = attempts + 1, next_attempt_at = %s"  # noqa: S608 - table name
            f" WHERE id IN (SELECT id FROM {table} WHERE state IN (%s, %s)"
            f" AND next_attempt_at <= %s ORDER BY next_attempt_at, id LIMIT %s{lock})"
            " AND state IN (%s, %s) RETURNING id",
            [
                OutboundState.SENDING,
                when,
                OutboundState.PENDING,
                OutboundState.RETRYING,
                when,
                limit,
                OutboundState.PENDING,
                OutboundState.RETRYING,
            ],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if ids:
        sent: list[int] = []
        try:
            for outbound in OutboundMessage.objects.filter(pk__in=ids).order_by("created_at", "id"):
                if _send_claimed(outbound, record_sent=False) == OutboundState.SENT:
                    sent.append(outbound.pk)
        finally:
            # The batch's sent ones in one write instead of one each: on SQLite every write
            # outside a transaction waits for the database's write lock, which the pumps'
            # processing holds most of the time (bench/RESULTS.md, "mailfast"). A crash before
            # this line leaves them ``sending``: sent again later (at least once, as with one
            # email between its sending and its own write).
            if sent:
                OutboundMessage.objects.filter(pk__in=sent).update(
                    state=OutboundState.SENT, sent_at=clock.now(), last_error=""
                )
    return len(ids)


def _send_claimed(outbound: OutboundMessage, *, record_sent: bool = True) -> str:
    """Send a claimed email; record a failure, and a success unless ``record_sent`` is False
    (the caller records it); return the new state."""
    try:
        _deliver(compose(outbound))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:5000]
        log.warning(
            "sending email %s failed (attempt %s): %s", outbound.pk, outbound.attempts, error
        )
        if outbound.attempts >= MAX_ATTEMPTS or _permanent(exc):
            OutboundMessage.objects.filter(pk=outbound.pk).update(
                state=OutboundState.FAILED, last_error=error
            )
            _note_failure(outbound, error)
            return OutboundState.FAILED
        delay = dt.timedelta(minutes=BACKOFF_MINUTES[min(outbound.attempts, MAX_ATTEMPTS - 1) - 1])
        OutboundMessage.objects.filter(pk=outbound.pk).update(
            state=OutboundState.RETRYING, last_error=error, next_attempt_at=clock.now() + delay
        )
        return OutboundState.RETRYING
    if record_sent:
        OutboundMessage.objects.filter(pk=outbound.pk).update(
            state=OutboundState.SENT, sent_at=clock.now(), last_error=""
        )
    return OutboundState.SENT


@task()
def retry_outbound_task() -> int:
    return retry_due_outbound()


def retry_due_outbound(*, now: dt.datetime | None = None) -> int:
    """Send what is due again (and what a dead process left half-sent); return the count."""
    now = now or clock.now()
    OutboundMessage.objects.filter(
        state=OutboundState.SENDING, next_attempt_at__lt=now - STUCK_SENDING
    ).update(state=OutboundState.RETRYING)
    due = list(
        OutboundMessage.objects.filter(
            state__in=[OutboundState.PENDING, OutboundState.RETRYING], next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:500]
    )
    for pk in due:
        send_outbound(pk)
    return len(due)


# --- Notes on the ticket ----------------------------------------------------------------------


def _note_author(ticket: Ticket, outbound: OutboundMessage | None) -> User | None:
    """Who an automatic note is written as: the replying agent, else the assignee, else the
    first admin (Kefu has no system user; the note's text says it is automatic)."""
    if outbound is not None and outbound.comment_id is not None:
        author = outbound.comment.author  # type: ignore[union-attr]
        if author.is_agent:
            return author
    if ticket.assignee is not None:
        return ticket.assignee
    return User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()


def _add_note(ticket: Ticket, body: str, outbound: OutboundMessage | None) -> None:
    author = _note_author(ticket, outbound)
    if author is None:
        return
    try:
        update_ticket(
            ticket,
            actor=None,
            data=TicketData(via_channel=Channel.SYSTEM),
            comment=NewComment(
                body=body, public=False, author=author, metadata={"email": {"system_note": True}}
            ),
        )
    except ValidationError as exc:  # a closed ticket takes no notes: the row still says it
        log.info("no note on ticket %s: %s", ticket.pk, exc)


def _note_failure(outbound: OutboundMessage, error: str) -> None:
    body = (
        f"[Kefu] The email “{outbound.subject}” to {', '.join(outbound.recipients + outbound.cc)}"
        f" could not be sent after {outbound.attempts} attempts: {error}"
    )
    with transaction.atomic():
        _add_note(outbound.ticket, body, outbound)


def record_bounce(*, inbound: InboundMessage, bounce: Bounce) -> None:
    """A delivery status notification: mark the addresses bouncing, note it on the ticket."""
    for address in bounce.failed:
        set_identity_bouncing(type=IdentityType.EMAIL, value=address, bouncing=True)
    keys = [key_of(m) for m in bounce.original_message_ids]
    original = (
        OutboundMessage.objects.select_related("ticket").filter(message_key__in=keys).first()
        if keys
        else None
    )
    if original is None:
        return
    detail = " ".join(part for part in (bounce.status, bounce.diagnostic) if part)
    OutboundMessage.objects.filter(pk=original.pk).update(
        state=OutboundState.FAILED, last_error=f"Bounced: {detail}"[:5000]
    )
    inbound.ticket = original.ticket
    _add_note(
        original.ticket,
        f"[Kefu] The email “{original.subject}” to {', '.join(bounce.failed)} bounced"
        + (f" ({detail})" if detail else "")
        + ". The address is marked as bouncing until its owner writes again.",
        original,
    )
