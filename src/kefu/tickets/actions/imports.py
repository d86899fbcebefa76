"""Bringing history in: many tickets at once, keeping their original dates and authors.

Used by migrations (Zendesk's ``imports/tickets``) and the demo data generator. Unlike
``create_ticket`` it sends nothing and runs no rules — the events already happened elsewhere —
but it writes the same rows: tickets, tag rows, comments, audits with Create and Comment
events. Every row is validated before anything is written; one bad row fails the batch with
an error naming the row and the field.
"""

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from kefu.accounts.actions import normalize_tags
from kefu.accounts.models import Group, User
from kefu.core import clock
from kefu.core.html import html_to_text, sanitize_html, text_to_html
from kefu.core.ids import allocate_ids
from kefu.crm.models import Organization

from ..choices import Channel, EventType, Priority, Status, TicketType
from ..models import Audit, AuditEvent, Comment, CustomStatus, Ticket, TicketTag
from .audit import create_event_values


class ImportedComment(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    author: User
    body: str = ""
    html_body: str = ""
    public: bool = True
    created_at: dt.datetime | None = None


class ImportedTicket(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    subject: str
    requester: User
    comments: list[ImportedComment]
    submitter: User | None = None
    assignee: User | None = None
    group: Group | None = None
    organization: Organization | None = None
    status: str = Status.OPEN
    # A custom status of the same category; the category's default when not given.
    custom_status: CustomStatus | None = None
    priority: str | None = None
    type: str | None = None
    tags: list[str] = Field(default_factory=list)
    external_id: str | None = None
    via_channel: str = Channel.IMPORT
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    solved_at: dt.datetime | None = None


def _row_error(index: int, field: str, message: str) -> ValidationError:
    return ValidationError({f"tickets[{index}].{field}": [message]})


def _validate(index: int, item: ImportedTicket, now: dt.datetime) -> None:
    if item.status not in Status.values:
        raise _row_error(index, "status", _("“%(v)s” is not a valid status.") % {"v": item.status})
    if item.custom_status is not None and item.custom_status.status_category != item.status:
        raise _row_error(
            index, "custom_status_id", _("The custom status does not belong to the status given.")
        )
    if item.priority is not None and item.priority not in Priority.values:
        raise _row_error(
            index, "priority", _("“%(v)s” is not a valid priority.") % {"v": item.priority}
        )
    if item.type is not None and item.type not in TicketType.values:
        raise _row_error(index, "type", _("“%(v)s” is not a valid type.") % {"v": item.type})
    if item.via_channel not in Channel.values:
        raise _row_error(index, "via_channel", _("Unknown channel."))
    if not item.subject.strip():
        raise _row_error(index, "subject", _("A ticket needs a subject."))
    if not item.comments:
        raise _row_error(index, "comments", _("A ticket needs at least one comment."))
    if item.assignee is not None and not item.assignee.is_agent:
        raise _row_error(
            index, "assignee_id", _("%(n)s is not an agent.") % {"n": item.assignee.name}
        )
    created = item.created_at or now
    if item.updated_at is not None and item.updated_at < created:
        raise _row_error(index, "updated_at", _("updated_at is before created_at."))
    for position, comment in enumerate(item.comments):
        if not (comment.body.strip() or comment.html_body.strip()):
            raise _row_error(index, f"comments[{position}].body", _("The comment is empty."))


@transaction.atomic
def import_tickets(items: Sequence[ImportedTicket], *, actor: User | None) -> list[Ticket]:
    """Create ``items`` with their history in one transaction; returns the new tickets."""
    now = clock.now()
    for index, item in enumerate(items):
        _validate(index, item, now)
    statuses = {s.status_category: s for s in CustomStatus.objects.filter(default=True)}

    tickets: list[Ticket] = []
    bodies: list[list[tuple[str, str]]] = []
    for item in items:
        created = item.created_at or now
        comment_bodies = []
        for comment in item.comments:
            if comment.html_body.strip():
                html_body = sanitize_html(comment.html_body)
                comment_bodies.append((html_to_text(html_body), html_body))
            else:
                comment_bodies.append((comment.body.strip(), text_to_html(comment.body)))
        bodies.append(comment_bodies)
        last_comment = max((c.created_at or created for c in item.comments), default=created)
        updated = item.updated_at or max(created, last_comment)
        solved_at = item.solved_at
        if solved_at is None and item.status in (Status.SOLVED, Status.CLOSED):
            solved_at = updated
        tickets.append(
            Ticket(
                subject=item.subject.strip()[:500],
                description=comment_bodies[0][0],
                status=item.status,
                custom_status=item.custom_status or statuses[item.status],
                priority=item.priority,
                type=item.type,
                requester=item.requester,
                submitter=item.submitter or item.requester,
                assignee=item.assignee,
                group=item.group,
                organization=item.organization,
                tags=normalize_tags(item.tags),
                custom_fields={},
                via_channel=item.via_channel,
                via_source={},
                external_id=item.external_id or None,
                is_public=any(c.public for c in item.comments),
                created_at=created,
                updated_at=updated,
                status_updated_at=solved_at or updated,
                assigned_at=created if item.assignee is not None else None,
                solved_at=solved_at,
            )
        )
    Ticket.objects.bulk_create(tickets)

    TicketTag.objects.bulk_create(
        [TicketTag(ticket=ticket, name=name) for ticket in tickets for name in ticket.tags]
    )
    comments: list[Comment] = []
    audits: list[Audit] = []
    events: list[AuditEvent] = []
    for ticket, item, comment_bodies in zip(tickets, items, bodies, strict=True):
        for position, (comment, (body, html_body)) in enumerate(
            zip(item.comments, comment_bodies, strict=True)
        ):
            at = comment.created_at or ticket.created_at
            record = Comment(
                ticket=ticket,
                author=comment.author,
                body=body,
                html_body=html_body,
                public=comment.public,
                via_channel=ticket.via_channel,
                created_at=at,
            )
            comments.append(record)
            audit = Audit(
                ticket=ticket,
                author=comment.author if position else (actor or comment.author),
                via_channel=ticket.via_channel,
                created_at=at,
            )
            audits.append(audit)
            if position == 0:
                events.extend(
                    AuditEvent(audit=audit, type=EventType.CREATE, field_name=name, value=value)
                    for name, value in create_event_values(ticket).items()
                )
            events.append(AuditEvent(audit=audit, type=EventType.COMMENT, comment=record))
    Comment.objects.bulk_create(comments)
    Audit.objects.bulk_create(audits)
    for event in events:
        # bulk_create gave the comment its id after the event took the object: copy it now.
        # Read the cached object first: assigning comment_id would drop it and reload it.
        written = event.comment
        if written is not None:
            event.comment_id = event.pk = written.pk
        event.audit_id = event.audit.pk
    missing = [event for event in events if event.pk is None]
    for event, new_id in zip(missing, allocate_ids(len(missing)), strict=True):
        event.pk = new_id
    AuditEvent.objects.bulk_create(events)
    return tickets
