"""What a customer does in the portal, as actions: submit a request, reply, mark it solved.

They store the uploads and call the ticket actions (``create_ticket`` / ``update_ticket``
with ``via_channel="portal"``) in one transaction, so a refused request leaves nothing behind
in the database. Callers have already checked access (``kefu.tickets.access``)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.tickets.access import can_comment
from kefu.tickets.actions import NewComment, TicketData, create_ticket, create_upload, update_ticket
from kefu.tickets.choices import Channel, Status
from kefu.tickets.models import Attachment, Ticket


@dataclass(frozen=True)
class UploadedFile:
    """A file from a form: its name, bytes and declared type."""

    name: str
    content: bytes | File
    content_type: str | None = None


def _store(uploader: User, files: Iterable[UploadedFile]) -> list[Attachment]:
    return [
        create_upload(
            uploader=uploader, file_name=f.name, content=f.content, content_type=f.content_type
        )
        for f in files
    ]


@transaction.atomic
def submit_request(
    *,
    user: User,
    subject: str,
    description: str,
    custom_fields: Mapping[int, Any] | None = None,
    files: Iterable[UploadedFile] = (),
) -> Ticket:
    """A customer opens a request for themselves. Required portal fields, attachment size
    and type are enforced by the ticket actions (ValidationError naming the field)."""
    if not description.strip():
        raise ValidationError({"description": [_("Describe what you need.")]})
    if not subject.strip():
        raise ValidationError({"subject": [_("A ticket needs a subject.")]})
    attachments = _store(user, files)
    changes: dict[str, Any] = {"subject": subject, "via_channel": Channel.PORTAL}
    if custom_fields:
        changes["custom_fields"] = dict(custom_fields)
    if not user.is_end_user:
        # Agents trying the portal open the request for themselves, as a customer would.
        changes["requester"] = user
    data = TicketData(**changes)
    return create_ticket(
        actor=user,
        data=data,
        comment=NewComment(
            body=description, attachments=attachments, via_channel=Channel.PORTAL, public=True
        ),
    )


def can_reply(user: User, ticket: Ticket) -> bool:
    return ticket.status != Status.CLOSED and can_comment(user, ticket)


def can_mark_solved(user: User, ticket: Ticket) -> bool:
    """Only the requester, and only while the request is not solved yet (Zendesk)."""
    return ticket.requester_id == user.pk and ticket.status not in (Status.SOLVED, Status.CLOSED)


@transaction.atomic
def reply_to_request(
    *,
    user: User,
    ticket: Ticket,
    body: str,
    files: Iterable[UploadedFile] = (),
    mark_solved: bool = False,
) -> Ticket:
    """A public reply from the portal, optionally marking the request solved. A customer's
    reply reopens a pending or solved request (``update_ticket``'s rule)."""
    if not can_reply(user, ticket):
        raise ValidationError({"body": [_("You cannot reply to this request.")]})
    if mark_solved and not can_mark_solved(user, ticket):
        raise ValidationError({"mark_solved": [_("Only the requester can mark it as solved.")]})
    attachments = _store(user, files)
    comment = None
    if body.strip() or attachments:
        comment = NewComment(
            body=body, attachments=attachments, public=True, via_channel=Channel.PORTAL
        )
    elif not mark_solved:
        raise ValidationError({"body": [_("Write a reply.")]})
    data = (
        TicketData(status=Status.SOLVED, via_channel=Channel.PORTAL)
        if mark_solved
        else TicketData(via_channel=Channel.PORTAL)
    )
    return update_ticket(ticket, actor=user, data=data, comment=comment)
