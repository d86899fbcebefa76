"""Writing a change: its audit with events, the comment, and the tag rows — in the caller's
transaction."""

import datetime as dt
from typing import Any

from kefu.accounts.models import User
from kefu.core.ids import allocate_ids

from ..choices import EventType
from ..models import Audit, AuditEvent, Comment, Ticket, TicketTag
from .checks import comment_bodies
from .data import NewComment


class AuditWriter:
    """Collects a change's events and writes them with one Audit.

    With ``join`` (a change made by a hook while another change's hooks run, see
    ``kefu.tickets.hooks``) the events are added to that audit instead, each carrying this
    change's ``via`` — the way Zendesk shows a trigger's changes inside the update that fired it.
    """

    def __init__(self, ticket: Ticket, *, author: User | None, via_channel: str,
                 via_source: dict[str, Any], created_at: dt.datetime,
                 join: Audit | None = None) -> None:  # fmt: skip
        self.ticket = ticket
        self.join = join
        self.author = author
        self.via_channel = via_channel
        self.via_source = via_source
        self.created_at = created_at
        self.events: list[AuditEvent] = []
        self._audit_id: int | None = None

    def reserve_comment_id(self) -> int:
        """Ids of a comment, this audit and the events so far, in one round trip."""
        missing = [event for event in self.events if event.pk is None]
        if self.join is not None:
            self._audit_id = self.join.pk
            comment_id, *event_ids = allocate_ids(1 + len(missing))
        else:
            comment_id, self._audit_id, *event_ids = allocate_ids(2 + len(missing))
        for event, event_id in zip(missing, event_ids, strict=True):
            event.pk = event_id
        return comment_id

    def create(self, field_name: str, value: Any) -> None:
        self.events.append(AuditEvent(type=EventType.CREATE, field_name=field_name, value=value))

    def change(self, field_name: str, value: Any, previous: Any) -> None:
        self.events.append(
            AuditEvent(
                type=EventType.CHANGE, field_name=field_name, value=value, previous_value=previous
            )
        )

    def comment(self, comment: Comment) -> None:
        # A Comment event shares the comment's id, as in Zendesk.
        self.events.append(AuditEvent(id=comment.pk, type=EventType.COMMENT, comment=comment))

    def other(self, type: str, **values: Any) -> None:
        self.events.append(AuditEvent(type=type, **values))

    def save(self) -> Audit | None:
        if not self.events:
            return None
        # At most one round trip for the ids still missing (none after reserve_comment_id).
        missing = [event for event in self.events if event.pk is None]
        if self.join is not None:
            for event, event_id in zip(missing, allocate_ids(len(missing)), strict=True):
                event.pk = event_id
            via = {"channel": self.via_channel, "source": self.via_source}
            for event in self.events:
                event.audit = self.join
                event.via = via
            AuditEvent.objects.bulk_create(self.events)
            return self.join
        needed = len(missing) + (1 if self._audit_id is None else 0)
        ids = allocate_ids(needed) if needed else []
        audit_id = self._audit_id if self._audit_id is not None else ids.pop(0)
        for event, event_id in zip(missing, ids, strict=True):
            event.pk = event_id
        audit = Audit(
            id=audit_id,
            ticket=self.ticket,
            author=self.author,
            via_channel=self.via_channel,
            via_source=self.via_source,
            created_at=self.created_at,
        )
        audit.save(force_insert=True)
        for event in self.events:
            event.audit = audit
        AuditEvent.objects.bulk_create(self.events)
        return audit


def sync_tag_rows(ticket: Ticket, previous: list[str]) -> None:
    added = set(ticket.tags) - set(previous)
    removed = set(previous) - set(ticket.tags)
    if removed:
        TicketTag.objects.filter(ticket=ticket, name__in=removed).delete()
    if added:
        TicketTag.objects.bulk_create([TicketTag(ticket=ticket, name=name) for name in added])


def write_comment(
    ticket: Ticket,
    comment: NewComment,
    *,
    audit: AuditWriter,
    author: User,
    via_channel: str,
    created_at: dt.datetime,
) -> Comment:
    body, html_body = comment_bodies(comment)
    record = Comment.objects.create(
        id=audit.reserve_comment_id(),
        ticket=ticket,
        author=author,
        body=body,
        html_body=html_body,
        public=comment.public,
        via_channel=comment.via_channel or via_channel,
        via_source=comment.via_source,
        metadata=comment.metadata,
        created_at=created_at,
    )
    for attachment in comment.attachments:
        attachment.comment = record
        attachment.token = None
        attachment.save(update_fields=["comment", "token"])
    return record


def create_event_values(ticket: Ticket) -> dict[str, Any]:
    values: dict[str, Any] = {
        "subject": ticket.subject,
        "status": ticket.status,
        "custom_status_id": ticket.custom_status_id,
        "priority": ticket.priority,
        "type": ticket.type,
        "requester_id": ticket.requester_id,
        "submitter_id": ticket.submitter_id,
        "assignee_id": ticket.assignee_id,
        "group_id": ticket.group_id,
        "organization_id": ticket.organization_id,
        "tags": ticket.tags,
        "is_public": ticket.is_public,
    }
    for key, value in ticket.custom_fields.items():
        values[key[1:]] = value  # Zendesk names custom field events by the field id
    if ticket.due_at is not None:
        values["due_at"] = ticket.due_at.isoformat()
    if ticket.problem_id is not None:
        values["problem_id"] = ticket.problem_id
    if ticket.external_id:
        values["external_id"] = ticket.external_id
    return values
