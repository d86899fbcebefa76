"""Inbound mail: store the raw bytes first, then process them into a ticket or a comment.

``store_inbound`` commits the bytes (one row per support address the message was for) and
leaves them to the workers' mail pumps (``pump.py``: ``process_next``), or — a big message,
or another task backend — schedules ``process_inbound`` as a task. Processing is idempotent:
it claims the row (``state == received``) under a row lock in the transaction that processes
it, and a failure rolls everything back and quarantines the row with the error — the next
message is not held up. ``retry_inbound`` tries again.

Threading (first match wins):
1. the per-ticket reply address the message was sent to (``support+t123-…@``, signed);
2. ``In-Reply-To``/``References`` naming a message of a ticket (inbound or outbound);
3. a ``[#123]`` subject tag — only when the sender takes part in ticket 123 (its requester,
   an email CC, a follower, or an agent), so nobody can write into someone else's ticket by
   guessing a number.
Otherwise a new ticket. A matched ticket that is closed gets a follow-up ticket instead;
a deleted one is ignored. A reply matched by address or headers from someone who is not on
the ticket adds them as an email CC (Zendesk's behaviour with CCs on).
"""

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, F, OuterRef
from django.tasks import task
from django.urls import reverse

from kefu.accounts.actions import normalize_email
from kefu.accounts.models import User
from kefu.core import clock
from kefu.core.queueing import enqueue_with_commit
from kefu.crm.actions import (
    create_end_user_with_email,
    find_user_by_identity,
    set_identity_bouncing,
)
from kefu.crm.choices import IdentityType
from kefu.crm.models import Identity
from kefu.tickets.actions import (
    NewComment,
    TicketData,
    create_ticket_and_audit,
    create_upload,
    update_ticket,
)
from kefu.tickets.choices import Channel, Status
from kefu.tickets.models import Attachment, Ticket

from . import config, pump
from .addresses import find_support_address, is_support_address, ticket_id_from_reply_address
from .choices import InboundState, SuspensionCause
from .folding import fold_html, fold_text
from .models import InboundMessage, Mailbox, OutboundMessage, SupportAddress
from .parsing import ParsedEmail, message_ids, parse_email
from .protection import automated_reason, read_bounce, suppress_automatic_mail
from .verification import forwarding_check_token, receive_forwarding_check

log = logging.getLogger(__name__)

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID_HEADER = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I | re.M)
_SUBJECT_TAG = re.compile(r"\[#(\d{1,12})\]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# The longest body (characters) a comment takes from one email; the rest stays in the
# original message, one click away (Zendesk keeps 64 KB of a comment).
MAX_BODY_CHARS = 256 * 1024


# ``suspension_cause`` of a suspended message an admin recovered, until it is processed.
RECOVERING = "recovering"


class Quarantine(Exception):
    """A message Kefu cannot turn into a ticket as it is (the reason is kept with it)."""


def key_of(message_id: str) -> str:
    return hashlib.sha256(message_id.strip().lower().encode("utf-8", "replace")).hexdigest()


def max_email_bytes() -> int:
    return settings.MAX_EMAIL_MB * 1024 * 1024


def _header_message_id(raw: bytes) -> str:
    end = _HEADER_END.search(raw)
    head = raw[: end.start()] if end else raw[:65536]
    match = _MESSAGE_ID_HEADER.search(head)
    if match is None:
        return ""
    found = message_ids(match.group(1).decode("ascii", "replace"))
    return found[0][:995] if found else ""


# --- Storing ----------------------------------------------------------------------------------


def store_inbound(
    *,
    raw: bytes,
    recipients: list[str],
    envelope_from: str = "",
    source: str = "smtp",
    mailbox: Mailbox | None = None,
) -> list[InboundMessage]:
    """Commit ``raw`` once per recipient and schedule processing; return the rows.

    A message already stored for a recipient (same Message-ID, or same bytes when it has
    none) is not stored again: the existing row is returned. A message over
    ``KEFU_MAX_EMAIL_MB`` is stored quarantined (kept, not processed until an admin retries
    it). Returns only after the commit: callers acknowledge the message afterwards.
    """
    digest = hashlib.sha256(raw).hexdigest()
    message_id = _header_message_id(raw)
    message_key = key_of(message_id) if message_id else digest
    targets = list(dict.fromkeys(r.strip().lower() for r in recipients if r.strip()))
    rows = [
        InboundMessage(
            recipient=recipient,
            message_id=message_id,
            message_key=message_key,
            sha256=digest,
            size=len(raw),
            raw=raw,
            envelope_from=envelope_from[:255],
            source=source,
            mailbox=mailbox,
            received_at=clock.now(),
        )
        for recipient in targets
    ]
    if len(raw) > max_email_bytes():
        for row in rows:
            row.state = InboundState.QUARANTINED
            row.error = (
                f"The message is {len(raw) / 1048576:.1f} MB, larger than "
                f"KEFU_MAX_EMAIL_MB={settings.MAX_EMAIL_MB}; retry it to process it anyway."
            )
    try:
        # The common case, a first delivery: the rows in one transaction, no savepoints.
        with transaction.atomic():
            _insert(rows, careful=False)
    except IntegrityError:
        # Delivered before (or concurrently a moment ago): the unique constraint, not a SELECT
        # before every INSERT, recognises it. Again, one savepoint per recipient.
        for row in rows:
            row.pk = None
        with transaction.atomic():
            rows = _insert(rows, careful=True)
    return rows


def _insert(rows: list[InboundMessage], *, careful: bool) -> list[InboundMessage]:
    """Insert the rows (``careful``: each in a savepoint, an existing one is read instead) and
    have the new ones processed; the rows as stored."""
    stored: list[InboundMessage] = []
    for row in rows:
        if not careful:
            row.save(force_insert=True)
        else:
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                stored.append(
                    InboundMessage.objects.get(recipient=row.recipient, message_key=row.message_key)
                )
                continue
        stored.append(row)
        if row.state != InboundState.RECEIVED:
            continue
        if pump.takes(row.size):
            # A worker's mail pump takes it from the table (docs/email.md, "How it works"):
            # no task row; a pump in this process is woken after the commit.
            transaction.on_commit(pump.wake)
        else:
            # With the database task queue: committed together with the message (one commit).
            enqueue_with_commit(process_inbound_task, row.pk)
    return stored


# --- Processing -------------------------------------------------------------------------------


@task()
def process_inbound_task(inbound_id: int) -> str:
    return process_inbound(inbound_id)


@task()
def process_pending_task() -> int:
    return process_pending(older_than=dt.timedelta(minutes=1))


def process_pending(*, older_than: dt.timedelta = dt.timedelta(0), limit: int = 1000) -> int:
    """Process messages still waiting (their task was lost, say, in a crash); return the count."""
    cutoff = clock.now() - older_than
    ids = list(
        InboundMessage.objects.filter(state=InboundState.RECEIVED, received_at__lte=cutoff)
        .order_by("received_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        process_inbound(pk)
    return len(ids)


PROCESSED_FIELDS = [
    "state", "sender", "subject", "automated", "suspension_cause", "error", "attempts",
    "ticket", "comment", "processed_at",
]  # fmt: skip


def process_inbound(inbound_id: int, *, force: bool = False) -> str:
    """Turn a stored message into a ticket or comment, exactly once; return its new state.

    ``force`` skips the rate limit (recovering a suspended message). Any error quarantines the
    message with the error text and returns normally, so a queue of messages keeps flowing.
    """
    try:
        # Parse before taking the row lock (on SQLite: the database's one write lock), so a
        # 20 MB message being parsed holds up no other message's processing. Parsing is pure;
        # the claim below still decides who processes the message.
        raw = (
            InboundMessage.objects.filter(pk=inbound_id, state=InboundState.RECEIVED)
            .values_list("raw", flat=True)
            .first()
        )
        parsed = parse_email(bytes(raw)) if raw is not None else None
        del raw
        with config.snapshot(), transaction.atomic():
            inbound = (
                InboundMessage.objects.select_for_update()
                .defer("raw")
                .filter(pk=inbound_id, state=InboundState.RECEIVED)
                .first()
            )
            if inbound is None:
                return (
                    InboundMessage.objects.filter(pk=inbound_id)
                    .values_list("state", flat=True)
                    .first()
                    or "missing"
                )
            if parsed is None:  # it became "received" again after the read (a retry)
                parsed = parse_email(bytes(InboundMessage.objects.get(pk=inbound_id).raw))
            return _process_claimed(inbound, parsed, force=force)
    except OperationalError as exc:
        return _left_for_retry(inbound_id, exc)
    except Exception as exc:
        return _quarantine(inbound_id, exc)


def process_next(*, max_bytes: int) -> tuple[int, str] | None:
    """Claim the oldest waiting message of at most ``max_bytes`` and process it, as
    ``process_inbound`` does; return (its id, its new state), or None when none waits.

    The claim is the row itself, inside the processing transaction: on PostgreSQL the first
    waiting row nobody else has locked (``SKIP LOCKED``: two workers take two messages); on
    SQLite the transaction holds the database's write lock from its start, so nobody else
    can take the same row before this one commits. A crash rolls everything back and the
    message is still ``received``: processed again, exactly once. The bytes are read and
    parsed inside the transaction, so ``max_bytes`` keeps big messages out (they go through
    ``process_inbound``, which parses before it locks).
    """
    inbound_id: int | None = None
    try:
        with config.snapshot(), transaction.atomic():
            inbound = (
                InboundMessage.objects.select_for_update(skip_locked=True)
                .filter(state=InboundState.RECEIVED, size__lte=max_bytes)
                # Whether the same message, sent to another of our addresses, is a comment
                # already: asked here, in the claim, instead of by a query of its own.
                .annotate(
                    twin_done=Exists(
                        InboundMessage.objects.filter(
                            message_key=OuterRef("message_key"), comment__isnull=False
                        ).exclude(pk=OuterRef("pk"))
                    )
                )
                .order_by("received_at", "id")
                .first()
            )
            if inbound is None:
                return None
            inbound_id = inbound.pk
            parsed = parse_email(bytes(inbound.raw))
            inbound.raw = b""  # not kept in memory while processing; never saved (see below)
            return inbound_id, _process_claimed(inbound, parsed, force=False)
    except OperationalError as exc:
        if inbound_id is None:
            raise
        return inbound_id, _left_for_retry(inbound_id, exc)
    except Exception as exc:
        if inbound_id is None:
            raise
        return inbound_id, _quarantine(inbound_id, exc)


def _process_claimed(inbound: InboundMessage, parsed: ParsedEmail, *, force: bool) -> str:
    """Process a row claimed in the current transaction; save its outcome."""
    inbound.attempts += 1
    if inbound.suspension_cause == RECOVERING:  # an admin let it through
        force, inbound.suspension_cause = True, ""
    _process(inbound, parsed, force=force)
    inbound.processed_at = clock.now()
    # Not the raw bytes: they were written once, when the message arrived.
    inbound.save(update_fields=PROCESSED_FIELDS)
    return inbound.state


def _left_for_retry(inbound_id: int, exc: OperationalError) -> str:
    # The database, not the message (locked, connection lost): it stays received and the
    # sweeper (``process_pending``) tries again, instead of quarantining a good message.
    log.warning("inbound email %s left for a retry: %s", inbound_id, exc)
    return InboundState.RECEIVED


def _quarantine(inbound_id: int, exc: Exception) -> str:
    reason = _describe(exc)
    log.warning("inbound email %s quarantined: %s", inbound_id, reason)
    InboundMessage.objects.filter(pk=inbound_id, state=InboundState.RECEIVED).update(
        state=InboundState.QUARANTINED,
        error=reason[:10000],
        processed_at=clock.now(),
        attempts=F("attempts") + 1,
    )
    return InboundState.QUARANTINED


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return (
            "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
            )
            if hasattr(exc, "error_dict")
            else " ".join(exc.messages)
        )
    if isinstance(exc, Quarantine):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _process(inbound: InboundMessage, parsed: ParsedEmail, *, force: bool) -> None:
    sender = parsed.sender or (
        ("", inbound.envelope_from.lower()) if inbound.envelope_from else None
    )
    inbound.subject = parsed.subject[:500]
    if sender is None or "@" not in sender[1]:
        raise Quarantine("The message has no sender address (From).")
    inbound.sender = sender[1][:255]
    inbound.automated = automated_reason(parsed)[:100]
    address = find_support_address(inbound.recipient)

    check = forwarding_check_token(parsed.headers)
    if check and receive_forwarding_check(address, check):
        # Our own check email came back: the address forwards to Kefu. No ticket.
        inbound.automated = "forwarding check"
        inbound.state = InboundState.PROCESSED
        return
    bounce = read_bounce(parsed)
    if bounce is not None:
        _record_bounce(inbound, bounce)
        inbound.state = InboundState.PROCESSED
        return
    if is_support_address(sender[1]):
        _suspend(inbound, SuspensionCause.FROM_SUPPORT_ADDRESS)
        return
    # The same message sent to two of our addresses: one comment, on one ticket. (A row
    # claimed by ``process_next`` says already whether there is one: ``twin_done``.)
    twin = (
        InboundMessage.objects.filter(message_key=inbound.message_key, comment__isnull=False)
        .exclude(pk=inbound.pk)
        .first()
        if getattr(inbound, "twin_done", True)
        else None
    )
    if twin is not None:
        inbound.ticket_id, inbound.comment_id = twin.ticket_id, twin.comment_id
        inbound.state = InboundState.PROCESSED
        return
    if not force and _over_rate_limit(inbound):
        _suspend(inbound, SuspensionCause.RATE_LIMIT)
        return

    person, reachable = _person(sender, parsed)
    with suppress_automatic_mail(inbound.automated) if inbound.automated else _nothing():
        ticket = _thread(inbound, parsed, person)
        if ticket is None:
            _new_ticket(inbound, parsed, person, address, reachable=reachable)
        else:
            _reply(inbound, parsed, person, ticket)
    inbound.state = InboundState.PROCESSED


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def _suspend(inbound: InboundMessage, cause: str) -> None:
    inbound.state = InboundState.SUSPENDED
    inbound.suspension_cause = cause


def _over_rate_limit(inbound: InboundMessage) -> bool:
    limit = config.current().settings.sender_rate_limit
    if not limit:
        return False
    since = clock.now() - dt.timedelta(hours=1)
    recent = (
        InboundMessage.objects.filter(sender=inbound.sender, received_at__gte=since)
        .filter(state__in=[InboundState.PROCESSED, InboundState.SUSPENDED])
        .exclude(pk=inbound.pk)
        .count()
    )
    return recent >= limit


def _person(sender: tuple[str, str], parsed: ParsedEmail) -> tuple[User, bool]:
    """The sender as a person, and whether their own address (``User.email``) is known not to
    be bouncing now (True when it is the address they wrote from: it works), which saves the
    acknowledgement its bouncing check."""
    name, address = sender
    normalized = normalize_email(address) or ""
    # One query for the person and whether the address was bouncing (the common case: a
    # customer who wrote before and is not bouncing needs nothing else).
    identity = (
        Identity.objects.select_related("user")
        .filter(type=IdentityType.EMAIL, value=normalized)
        .first()
    )
    person = identity.user if identity is not None else None
    if person is None:
        text = parsed.subject + parsed.text[:500]
        person = create_end_user_with_email(
            email=address, name=name, locale="zh-hans" if _CJK.search(text) else ""
        )
    elif identity is not None and identity.bouncing:
        # They write from it again: it works.
        set_identity_bouncing(type=IdentityType.EMAIL, value=address, bouncing=False)
    return person, bool(normalized) and normalize_email(person.email or "") == normalized


def _participant(ticket: Ticket, person: User) -> bool:
    if person.is_agent or ticket.requester_id == person.pk:
        return True
    return (
        ticket.email_ccs.filter(pk=person.pk).exists()
        or ticket.followers.filter(pk=person.pk).exists()
    )


def _thread(inbound: InboundMessage, parsed: ParsedEmail, person: User) -> Ticket | None:
    ticket: Ticket | None = None
    ticket_id = ticket_id_from_reply_address(inbound.recipient)
    if ticket_id is None and parsed.thread_ids:
        keys = [key_of(m) for m in parsed.thread_ids[:50]]
        ticket_id = (
            InboundMessage.objects.filter(message_key__in=keys, ticket__isnull=False)
            .values_list("ticket_id", flat=True)
            .first()
        ) or (
            OutboundMessage.objects.filter(message_key__in=keys)
            .values_list("ticket_id", flat=True)
            .first()
        )
    if ticket_id is not None:
        ticket = Ticket.objects.filter(pk=ticket_id, deleted_at__isnull=True).first()
    if ticket is None:
        for match in _SUBJECT_TAG.finditer(parsed.subject):
            candidate = Ticket.objects.filter(
                pk=int(match.group(1)), deleted_at__isnull=True
            ).first()
            if candidate is not None and _participant(candidate, person):
                ticket = candidate
                break
    return ticket


def _cc_people(parsed: ParsedEmail, sender: str) -> list[User]:
    people: list[User] = []
    for name, address in [*parsed.to, *parsed.cc]:
        if address == sender or is_support_address(address):
            continue
        person = find_user_by_identity(type=IdentityType.EMAIL, value=address)
        if person is None:
            try:
                person = create_end_user_with_email(email=address, name=name)
            except ValidationError:
                continue  # not a usable address: leave it out rather than fail the message
        people.append(person)
    return people[:48]


def _comment(
    inbound: InboundMessage, parsed: ParsedEmail, author: User, *, public: bool = True
) -> NewComment:
    attachments: list[Attachment] = []
    skipped: list[str] = []
    cid_urls: dict[str, str] = {}
    for part in parsed.attachments:
        try:
            upload = create_upload(
                uploader=author,
                file_name=part.file_name,
                content=part.data,
                content_type=part.content_type,
                inline=part.inline,
            )
        except ValidationError as exc:
            skipped.append(f"{part.file_name}: {' '.join(exc.messages)}")
            continue
        attachments.append(upload)
        if part.content_id:
            cid_urls[part.content_id.lower()] = reverse(
                "tickets:attachment_download", args=[upload.pk, upload.file_name]
            )
    folded = False
    html = ""
    text = ""
    if parsed.html.strip():
        html, folded = fold_html(parsed.html)

        def to_url(match: re.Match[str]) -> str:
            url = cid_urls.get(match.group(2).strip().lower())
            return f"{match.group(1)}{url}" if url else match.group(0)

        html = re.sub(r"""(src=["']?)cid:([^"'\s>]+)""", to_url, html, flags=re.I)
    else:
        text, folded = fold_text(parsed.text)
    truncated = len(html) > MAX_BODY_CHARS or len(text) > MAX_BODY_CHARS
    if truncated:
        # A 20 MB text body would be copied into the ticket, its search index and every
        # notification quoting it; the comment keeps the start and the original keeps it all.
        note = "… (truncated: the full message is in the original / 全文见原始邮件)"
        if html:
            html = html[:MAX_BODY_CHARS] + f"<p>{note}</p>"
        text = text[:MAX_BODY_CHARS] + ("\n\n" + note if text else "")
    if not html and not text.strip() and not attachments:
        text = "(no content)"
    return NewComment(
        body=text,
        html_body=html,
        public=public,
        author=author,
        attachments=attachments,
        via_channel=Channel.EMAIL,
        via_source=_via(inbound, parsed),
        metadata={
            "email": {
                "inbound_id": inbound.pk,
                "message_id": parsed.message_id,
                "folded": folded or truncated,
                "truncated": truncated,
                "automated": inbound.automated,
                "skipped_attachments": skipped,
                "to": [a for _n, a in parsed.to],
                "cc": [a for _n, a in parsed.cc],
            }
        },
    )


def _via(inbound: InboundMessage, parsed: ParsedEmail) -> dict[str, object]:
    name, address = parsed.sender or ("", inbound.sender)
    return {
        "from": {"address": address, "name": name},
        "to": {"address": inbound.recipient, "name": ""},
        "rel": None,
    }


def _new_ticket(
    inbound: InboundMessage,
    parsed: ParsedEmail,
    person: User,
    address: SupportAddress | None,
    *,
    followup_of: Ticket | None = None,
    reachable: bool = False,
) -> None:
    cc = _cc_people(parsed, person.email or inbound.sender)
    data = TicketData(
        subject=parsed.subject.strip()[:500] or None,
        requester=person,
        submitter=person,
        via_channel=Channel.EMAIL,
        via_source=_via(inbound, parsed),
        email_ccs=[p for p in cc if not p.is_agent],
        followers=[p for p in cc if p.is_agent],
    )
    if address is not None and address.group_id is not None:
        data.group = address.group
    if followup_of is not None:
        data.add_tags = ["followup"]
    created = create_ticket_and_audit(
        actor=None, data=data, comment=_comment(inbound, parsed, person)
    )
    ticket = created.ticket
    # The row's ticket is saved with its new state at the end of processing: the only mail
    # written before then, the acknowledgement, is given its thread headers. The ticket's
    # first comment is the one create_ticket wrote (a hook's comment comes after it).
    inbound.ticket = ticket
    inbound.comment = created.comment
    if not inbound.automated and not person.is_agent:
        from .outbound import queue_acknowledgement

        queue_acknowledgement(
            ticket=ticket,
            recipient=person,
            answering=parsed.message_id,
            first_comment=inbound.comment.body if inbound.comment else None,
            reachable=reachable,
        )


def _reply(inbound: InboundMessage, parsed: ParsedEmail, person: User, ticket: Ticket) -> None:
    if ticket.status == Status.CLOSED:
        _new_ticket(
            inbound, parsed, person, find_support_address(inbound.recipient), followup_of=ticket
        )
        return
    cc = _cc_people(parsed, person.email or inbound.sender)
    current_ccs = list(ticket.email_ccs.all())
    new_ccs = [p for p in cc if not p.is_agent and p not in current_ccs]
    if not person.is_agent and not _participant(ticket, person):
        new_ccs.append(person)
    data = TicketData(via_channel=Channel.EMAIL, via_source=_via(inbound, parsed))
    if new_ccs:
        data.email_ccs = current_ccs + new_ccs
    agents = [p for p in cc if p.is_agent]
    if agents and person.is_agent:
        data.followers = list({*ticket.followers.all(), *agents})
    InboundMessage.objects.filter(pk=inbound.pk).update(ticket=ticket)
    update_ticket(ticket, actor=person, data=data, comment=_comment(inbound, parsed, person))
    if agents and not person.is_agent:
        followers = list({*ticket.followers.all(), *agents})
        update_ticket(
            ticket, actor=None, data=TicketData(followers=followers, via_channel=Channel.EMAIL)
        )
    inbound.ticket = ticket
    inbound.comment = ticket.comments.order_by("-created_at", "-id").first()


def _record_bounce(inbound: InboundMessage, bounce: object) -> None:
    from .outbound import record_bounce

    record_bounce(inbound=inbound, bounce=bounce)  # type: ignore[arg-type]


# --- Quarantine and suspended tickets ---------------------------------------------------------


def failed_messages() -> "list[InboundMessage]":
    """Quarantined messages, newest first (``kefu email failed``)."""
    return list(
        InboundMessage.objects.filter(state=InboundState.QUARANTINED)
        .defer("raw")
        .order_by("-received_at", "-id")
    )


def _requeue(inbound: InboundMessage) -> None:
    """Make a quarantined or suspended message ``received`` again (claimed by a conditional
    update: two admins pressing "retry" requeue it once). A suspended one is marked
    ``RECOVERING`` so that whoever processes it — its task or the sweeper — lets it past the
    rate limit."""
    if inbound.state not in (InboundState.QUARANTINED, InboundState.SUSPENDED):
        raise ValidationError(
            {"state": [f"Only quarantined or suspended messages are retried, not {inbound.state}."]}
        )
    recovering = inbound.state == InboundState.SUSPENDED
    changed = InboundMessage.objects.filter(pk=inbound.pk, state=inbound.state).update(
        state=InboundState.RECEIVED, error="", suspension_cause=RECOVERING if recovering else ""
    )
    if not changed:
        raise ValidationError({"state": ["This message is already being processed again."]})


def retry_inbound(inbound: InboundMessage) -> str:
    """Process a quarantined (or suspended) message again now, after a fix; return its state
    (``kefu email retry``: the command waits for the answer)."""
    _requeue(inbound)
    return process_inbound(inbound.pk)


def queue_retry(inbound: InboundMessage) -> None:
    """Process a quarantined (or suspended) message again, in a task (the admin page: a web
    request does not process mail). Until the task runs, the message is ``received``; if the
    task cannot be queued, the sweeper (``process_pending``) takes it a minute later."""
    with transaction.atomic():
        _requeue(inbound)
        enqueue_with_commit(process_inbound_task, inbound.pk)


def suspended_tickets() -> "list[InboundMessage]":
    """Zendesk's suspended tickets: messages held back for review, newest first."""
    return list(
        InboundMessage.objects.filter(state=InboundState.SUSPENDED)
        .defer("raw")
        .order_by("-received_at", "-id")
    )


def recover_suspended(inbound: InboundMessage) -> str:
    """Let a suspended message through now: it becomes a ticket or comment."""
    if inbound.state != InboundState.SUSPENDED:
        raise ValidationError({"state": ["This message is not suspended."]})
    return retry_inbound(inbound)


def queue_recover(inbound: InboundMessage) -> None:
    """Let a suspended message through, in a task (see ``queue_retry``)."""
    if inbound.state != InboundState.SUSPENDED:
        raise ValidationError({"state": ["This message is not suspended."]})
    queue_retry(inbound)


def delete_suspended(inbound: InboundMessage) -> None:
    """Discard a suspended message (the row stays, marked deleted, without its bytes)."""
    if inbound.state != InboundState.SUSPENDED:
        raise ValidationError({"state": ["This message is not suspended."]})
    InboundMessage.objects.filter(pk=inbound.pk).update(
        state=InboundState.DELETED, raw=b"", processed_at=clock.now()
    )


@dataclass
class OriginalMessage:
    subject: str
    sender: str
    html: str
    text: str


def original_of(inbound: InboundMessage) -> OriginalMessage:
    """The whole message as received (for the "show original" view)."""
    parsed = parse_email(bytes(inbound.raw))
    return OriginalMessage(
        subject=parsed.subject,
        sender=parsed.sender[1] if parsed.sender else inbound.envelope_from,
        html=parsed.html,
        text=parsed.text,
    )
