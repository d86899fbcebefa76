"""Creating and changing tickets: the one write path every channel, view and API calls.

``create_ticket`` and ``update_ticket`` take a ``TicketData`` (only the fields a caller set are
applied, see ``model_fields_set``) and an optional ``NewComment``. Each call validates
everything first, then writes the ticket, its comment and one ``Audit`` with its events in a
single transaction: it either happens completely or not at all.
"""

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel, ConfigDict, Field

from kefu.accounts.actions import normalize_tags
from kefu.accounts.models import AccountSettings, Group, GroupMembership, User
from kefu.core import clock
from kefu.core.html import html_to_text, sanitize_html, text_to_html
from kefu.core.ids import allocate_ids
from kefu.crm.actions import default_organization
from kefu.crm.models import Organization, OrganizationMembership

from ..choices import Channel, EventType, FieldType, Priority, Status, TicketType
from ..models import (
    Attachment,
    Audit,
    AuditEvent,
    Comment,
    CustomStatus,
    Ticket,
    TicketField,
    TicketTag,
)
from .fields import active_fields_by_id, clean_custom_fields, default_custom_status, field_tags

SUBJECT_FROM_DESCRIPTION_LENGTH = 80
log = logging.getLogger(__name__)


class TicketData(BaseModel):
    """What to set on a ticket. Only fields the caller passes are applied; ``None`` clears."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    subject: str | None = None
    status: str | None = None
    custom_status: CustomStatus | None = None
    priority: str | None = None
    type: str | None = None
    requester: User | None = None
    submitter: User | None = None
    assignee: User | None = None
    group: Group | None = None
    organization: Organization | None = None
    tags: list[str] | None = None
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    custom_fields: dict[int, Any] | None = None
    followers: list[User] | None = None
    email_ccs: list[User] | None = None
    via_channel: str | None = None
    via_source: dict[str, Any] | None = None
    external_id: str | None = None
    problem: Ticket | None = None
    due_at: dt.datetime | None = None


class NewComment(BaseModel):
    """A reply or note. Give ``body`` (plain text) or ``html_body`` (sanitized here)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    body: str = ""
    html_body: str = ""
    public: bool = True
    author: User | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    via_channel: str | None = None
    via_source: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)


# Fields an end user may set on their own request (the portal's form and the API).
END_USER_CREATE_FIELDS = {
    "subject", "requester", "custom_fields", "email_ccs", "via_channel", "via_source",
    "organization", "priority", "type",
}  # fmt: skip
END_USER_UPDATE_FIELDS = {"status", "custom_fields", "email_ccs", "via_channel", "via_source"}


def _error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


# --- Validation helpers -----------------------------------------------------------------------


# How a field is named inside a sentence, in the user's language.
FIELD_LABELS = {
    "status": gettext_lazy("status"),
    "priority": gettext_lazy("priority"),
    "type": gettext_lazy("type"),
    "via_channel": gettext_lazy("channel"),
}


def _check_choice(field: str, value: str | None, choices: list[str], nullable: bool) -> None:
    if value is None:
        if not nullable:
            raise _error(field, _("This field is required."))
        return
    if value not in choices:
        raise _error(
            field,
            _("“%(value)s” is not a valid %(field)s.")
            % {"value": value, "field": FIELD_LABELS.get(field, field)},
        )


def _check_person(field: str, user: User | None, *, agent: bool = False) -> None:
    if user is None:
        return
    # An instance loaded from the database exists (a concurrent delete still fails on the
    # foreign key); an unsaved or made-up one does not.
    if user.pk is None or user._state.adding:
        raise _error(field, _("This person does not exist."))
    if agent and not user.is_agent:
        raise _error(field, _("%(name)s is not an agent.") % {"name": user.name})
    if agent and (not user.is_active or user.suspended):
        raise _error(field, _("%(name)s cannot be assigned tickets.") % {"name": user.name})


def _check_assignment(assignee: User | None, group: Group | None) -> None:
    """An assignee must belong to the ticket's group (Zendesk refuses it too)."""
    if assignee is None or group is None:
        return
    if not GroupMembership.objects.filter(user=assignee, group=group).exists():
        raise _error(
            "assignee_id",
            _("%(name)s is not a member of the group %(group)s.")
            % {"name": assignee.name, "group": group.name},
        )


def _check_required(
    custom_fields: dict[str, Any], fields: Mapping[int, TicketField], *, in_portal: bool
) -> None:
    """Fields required to solve (agents) or required in the portal (customers) need values."""
    missing = [
        field
        for field in fields.values()
        if (field.required_in_portal if in_portal else field.required)
        and custom_fields.get(field.key) in (None, "", [])
    ]
    if not missing:
        return
    message = (
        _("%(title)s is required.")
        if in_portal
        else _("%(title)s is required to solve the ticket.")
    )
    raise ValidationError(
        {f"custom_fields_{field.pk}": [message % {"title": field.title}] for field in missing}
    )


def _comment_bodies(comment: NewComment) -> tuple[str, str]:
    if comment.html_body.strip():
        html_body = sanitize_html(comment.html_body)
        body = html_to_text(html_body)
    else:
        body = comment.body.strip()
        html_body = text_to_html(body)
    if not body and not comment.attachments:
        raise _error("comment", _("The comment is empty."))
    return body, html_body


def _check_attachments(attachments: Iterable[Attachment], actor: User | None) -> None:
    """Uploads must exist, be unused, and (for end users) be their own."""
    ids = [a.pk for a in attachments]
    if not ids:
        return
    usable = Attachment.objects.filter(pk__in=ids, comment__isnull=True)
    if actor is not None and not actor.is_agent:
        usable = usable.filter(uploader=actor)
    if usable.count() != len(set(ids)):
        raise _error("uploads", _("This upload was already used or does not exist."))


# --- Writing ----------------------------------------------------------------------------------


class _AuditWriter:
    """Collects a change's events and writes them with one Audit."""

    def __init__(self, ticket: Ticket, *, author: User | None, via_channel: str,
                 via_source: dict[str, Any], created_at: dt.datetime) -> None:  # fmt: skip
        self.ticket = ticket
        self.author = author
        self.via_channel = via_channel
        self.via_source = via_source
        self.created_at = created_at
        self.events: list[AuditEvent] = []
        self._audit_id: int | None = None

    def reserve_comment_id(self) -> int:
        """Ids of a comment, this audit and the events so far, in one round trip."""
        missing = [event for event in self.events if event.pk is None]
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


def _sync_tag_rows(ticket: Ticket, previous: list[str]) -> None:
    added = set(ticket.tags) - set(previous)
    removed = set(previous) - set(ticket.tags)
    if removed:
        TicketTag.objects.filter(ticket=ticket, name__in=removed).delete()
    if added:
        TicketTag.objects.bulk_create([TicketTag(ticket=ticket, name=name) for name in added])


def _write_comment(
    ticket: Ticket,
    comment: NewComment,
    *,
    audit: _AuditWriter,
    author: User,
    via_channel: str,
    created_at: dt.datetime,
) -> Comment:
    body, html_body = _comment_bodies(comment)
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


def _apply_custom_fields(
    ticket: Ticket, cleaned: dict[str, Any], fields: dict[int, TicketField]
) -> tuple[set[str], set[str], dict[str, tuple[Any, Any]]]:
    """Apply validated values; return (tags to add, tags to remove, {key: (new, old)})."""
    add: set[str] = set()
    remove: set[str] = set()
    changes: dict[str, tuple[Any, Any]] = {}
    values = dict(ticket.custom_fields)
    for key, value in cleaned.items():
        old = values.get(key)
        if value == old:
            continue
        field = fields[int(key[1:])]
        remove |= field_tags(field, old)
        add |= field_tags(field, value)
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
        changes[key] = (value, old)
    ticket.custom_fields = values
    return add, remove - add, changes


def _tag_fields_from_tags(ticket: Ticket, fields: dict[int, TicketField]) -> None:
    """Tags and tagger fields agree: removing an option's tag clears the field."""
    tags = set(ticket.tags)
    for field in fields.values():
        value = ticket.custom_fields.get(field.key)
        if value is None:
            continue
        if field.type == FieldType.DROPDOWN and value not in tags:
            ticket.custom_fields.pop(field.key)
        elif field.type == FieldType.MULTISELECT:
            kept = [v for v in value if v in tags]
            if kept:
                ticket.custom_fields[field.key] = kept
            else:
                ticket.custom_fields.pop(field.key)
        elif field.type == FieldType.CHECKBOX and field.tag and field.tag not in tags:
            ticket.custom_fields.pop(field.key)


def _resolve_status(
    data: TicketData, fields_set: set[str]
) -> tuple[str | None, CustomStatus | None]:
    """Status and custom status from what the caller gave: either decides the other."""
    custom = data.custom_status if "custom_status" in fields_set else None
    status = data.status if "status" in fields_set else None
    if custom is not None:
        if not custom.active:
            raise _error("custom_status_id", _("This status is not active."))
        if status is not None and status != custom.status_category:
            raise _error(
                "custom_status_id", _("The custom status does not belong to the status given.")
            )
        return custom.status_category, custom
    if status is not None:
        _check_choice("status", status, Status.values, nullable=False)
        return status, None
    return None, None


# --- create -----------------------------------------------------------------------------------


@transaction.atomic
def create_ticket(*, actor: User | None, data: TicketData, comment: NewComment | None) -> Ticket:
    """Open a ticket with its first comment (the description).

    ``actor`` is who does it (None: the system). End users create tickets for themselves and
    may only set the fields of END_USER_CREATE_FIELDS. Raises ValidationError naming the field
    and writes nothing when anything is invalid.
    """
    fields_set = data.model_fields_set
    is_end_user = actor is not None and actor.is_end_user
    if is_end_user:
        forbidden = fields_set - END_USER_CREATE_FIELDS
        if forbidden:
            raise PermissionDenied(
                _("Customers cannot set %(f)s.") % {"f": ", ".join(sorted(forbidden))}
            )
    if comment is None:
        raise _error("comment", _("A new ticket needs a description."))
    now = clock.now()

    requester = data.requester or (actor if is_end_user else None)
    if requester is None:
        raise _error("requester_id", _("A ticket needs a requester."))
    _check_person("requester_id", requester)
    if is_end_user and requester.pk != actor.pk:  # type: ignore[union-attr]
        raise PermissionDenied(_("Customers open tickets for themselves."))
    submitter = data.submitter or actor or requester
    _check_person("submitter_id", submitter)
    assignee = data.assignee
    _check_person("assignee_id", assignee, agent=True)

    status, custom_status = _resolve_status(data, fields_set)
    if status is None:
        status = Status.OPEN if assignee is not None else Status.NEW
    if status == Status.CLOSED:
        raise _error("status", _("A new ticket cannot be closed."))
    if status == Status.NEW and assignee is not None:
        status = Status.OPEN  # an assigned ticket is being worked on
    custom_status = custom_status or default_custom_status(status)
    _check_choice("priority", data.priority, Priority.values, nullable=True)
    _check_choice("type", data.type, TicketType.values, nullable=True)
    via_channel = data.via_channel or Channel.WEB
    _check_choice("via_channel", via_channel, Channel.values, nullable=False)

    organization = (
        data.organization if "organization" in fields_set else default_organization(requester)
    )
    if (
        organization is not None
        and "organization" in fields_set
        and not actor_is_staff(actor)
        and not OrganizationMembership.objects.filter(
            user=requester, organization=organization
        ).exists()
    ):
        raise _error("organization_id", _("The requester is not a member of this organization."))
    group = data.group
    if group is None and assignee is not None:
        group = assignee.default_group
    if group is None and organization is not None:
        group = organization.group
    _check_assignment(assignee, group)

    fields = active_fields_by_id()
    cleaned_fields = clean_custom_fields(
        data.custom_fields or {}, for_end_user=is_end_user, fields=fields
    )
    if is_end_user:
        _check_required(cleaned_fields, fields, in_portal=True)
    tags = normalize_tags([*(data.tags or []), *data.add_tags])
    if data.due_at is not None and data.type != TicketType.TASK:
        raise _error("due_at", _("Only tasks have a due date."))
    if data.problem is not None and data.type != TicketType.INCIDENT:
        raise _error("problem_id", _("Only incidents are linked to a problem."))
    if data.problem is not None and data.problem.type != TicketType.PROBLEM:
        raise _error("problem_id", _("The linked ticket is not a problem."))

    body_text, _html = _comment_bodies(comment)
    subject = (data.subject or "").strip()
    if not subject:
        subject = body_text.splitlines()[0][:SUBJECT_FROM_DESCRIPTION_LENGTH] if body_text else ""
    if not subject:
        raise _error("subject", _("A ticket needs a subject."))
    _check_attachments(comment.attachments, actor)
    comment_public = comment.public or is_end_user

    ticket = Ticket(
        subject=subject[:500],
        description=body_text,
        status=status,
        custom_status=custom_status,
        priority=data.priority,
        type=data.type,
        requester=requester,
        submitter=submitter,
        assignee=assignee,
        group=group,
        organization=organization,
        tags=[],
        custom_fields={},
        via_channel=via_channel,
        via_source=data.via_source or {},
        external_id=data.external_id or None,
        problem=data.problem,
        due_at=data.due_at,
        is_public=comment_public,
        created_at=now,
        updated_at=now,
        status_updated_at=now,
        assigned_at=now if assignee is not None else None,
        solved_at=now if status == Status.SOLVED else None,
        requester_updated_at=now if actor is not None and actor.pk == requester.pk else None,
        assignee_updated_at=now if assignee is not None and actor == assignee else None,
    )
    add_tags, _remove, _field_changes = _apply_custom_fields(ticket, cleaned_fields, fields)
    ticket.tags = normalize_tags([*tags, *sorted(add_tags)])
    if status == Status.SOLVED:
        _check_required(ticket.custom_fields, fields, in_portal=False)
    ticket.save()
    _sync_tag_rows(ticket, [])
    if data.followers:
        ticket.followers.set([u for u in data.followers if u.is_agent])
    if data.email_ccs:
        ticket.email_ccs.set(data.email_ccs)

    audit = _AuditWriter(
        ticket,
        author=actor,
        via_channel=via_channel,
        via_source=ticket.via_source,
        created_at=now,
    )
    for name, value in create_event_values(ticket).items():
        audit.create(name, value)
    author = (
        comment.author
        if comment.author is not None and actor_is_staff(actor)
        else (actor or requester)
    )
    record = _write_comment(
        ticket,
        comment.model_copy(update={"public": comment_public}),
        audit=audit,
        author=author,
        via_channel=via_channel,
        created_at=now,
    )
    audit.comment(record)
    audit.save()
    return ticket


def actor_is_staff(actor: User | None) -> bool:
    return actor is None or actor.is_agent


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


# --- update -----------------------------------------------------------------------------------


@transaction.atomic
def update_ticket(
    ticket: Ticket,
    *,
    actor: User | None,
    data: TicketData | None = None,
    comment: NewComment | None = None,
) -> Ticket:
    """Change a ticket and/or add a comment, as ``actor`` (None: the system).

    The caller has already checked that ``actor`` may see the ticket (``access_ticket``).
    Rules applied here, for every caller: closed tickets are read-only; an end user's reply
    reopens a pending or solved ticket; an assignee must be in the ticket's group; assigning
    a new ticket opens it; solving needs the fields required to solve. Holds the ticket's row
    lock until the transaction ends, so concurrent updates apply one after the other.
    """
    data = data or TicketData()
    fields_set = set(data.model_fields_set)
    if data.add_tags:
        fields_set.add("add_tags")
    if data.remove_tags:
        fields_set.add("remove_tags")
    ticket = Ticket.objects.select_for_update().select_related("custom_status").get(pk=ticket.pk)
    if ticket.deleted_at is not None:
        raise _error("ticket", _("This ticket was deleted."))
    if ticket.status == Status.CLOSED:
        raise _error("status", _("Closed tickets cannot be changed; open a follow-up instead."))
    is_end_user = actor is not None and actor.is_end_user
    if is_end_user:
        forbidden = fields_set - END_USER_UPDATE_FIELDS
        if forbidden:
            raise PermissionDenied(
                _("Customers cannot change %(f)s.") % {"f": ", ".join(sorted(forbidden))}
            )
        if "status" in fields_set and data.status != Status.SOLVED:
            raise PermissionDenied(_("Customers can only mark their request as solved."))
    if not fields_set - {"via_channel", "via_source"} and comment is None:
        return ticket
    now = clock.now()
    via_channel = data.via_channel or (comment.via_channel if comment else None) or Channel.WEB
    _check_choice("via_channel", via_channel, Channel.values, nullable=False)
    audit = _AuditWriter(
        ticket,
        author=actor,
        via_channel=via_channel,
        via_source=data.via_source or (comment.via_source if comment else {}),
        created_at=now,
    )
    previous_tags = list(ticket.tags)

    def change(name: str, new: Any, old: Any) -> None:
        if new != old:
            audit.change(name, new, old)

    # Simple attributes -----------------------------------------------------------------------
    if "subject" in fields_set:
        subject = (data.subject or "").strip()
        if not subject:
            raise _error("subject", _("A ticket needs a subject."))
        change("subject", subject, ticket.subject)
        ticket.subject = subject[:500]
    if "priority" in fields_set:
        _check_choice("priority", data.priority, Priority.values, nullable=True)
        change("priority", data.priority, ticket.priority)
        ticket.priority = data.priority
    if "type" in fields_set:
        _check_choice("type", data.type, TicketType.values, nullable=True)
        change("type", data.type, ticket.type)
        ticket.type = data.type
    if "external_id" in fields_set:
        change("external_id", data.external_id or None, ticket.external_id)
        ticket.external_id = data.external_id or None
    if "due_at" in fields_set:
        if data.due_at is not None and ticket.type != TicketType.TASK:
            raise _error("due_at", _("Only tasks have a due date."))
        change(
            "due_at",
            data.due_at.isoformat() if data.due_at else None,
            ticket.due_at.isoformat() if ticket.due_at else None,
        )
        ticket.due_at = data.due_at
    if ticket.type != TicketType.TASK and ticket.due_at is not None:
        ticket.due_at = None
    if "problem" in fields_set:
        if data.problem is not None:
            if ticket.type != TicketType.INCIDENT:
                raise _error("problem_id", _("Only incidents are linked to a problem."))
            if data.problem.type != TicketType.PROBLEM or data.problem.pk == ticket.pk:
                raise _error("problem_id", _("The linked ticket is not a problem."))
        change("problem_id", data.problem.pk if data.problem else None, ticket.problem_id)
        ticket.problem = data.problem

    # People -----------------------------------------------------------------------------------
    if "requester" in fields_set:
        if data.requester is None:
            raise _error("requester_id", _("A ticket needs a requester."))
        _check_person("requester_id", data.requester)
        if data.requester.pk != ticket.requester_id and "organization" not in fields_set:
            organization = default_organization(data.requester)
            change(
                "organization_id",
                organization.pk if organization else None,
                ticket.organization_id,
            )
            ticket.organization = organization
        change("requester_id", data.requester.pk, ticket.requester_id)
        ticket.requester = data.requester
    if "organization" in fields_set:
        change("organization_id", data.organization.pk if data.organization else None,
               ticket.organization_id)  # fmt: skip
        ticket.organization = data.organization
    if "group" in fields_set:
        change("group_id", data.group.pk if data.group else None, ticket.group_id)
        ticket.group = data.group
    if "assignee" in fields_set:
        _check_person("assignee_id", data.assignee, agent=True)
        if data.assignee is not None and "group" not in fields_set:
            in_group = (
                ticket.group_id is not None
                and GroupMembership.objects.filter(
                    user=data.assignee, group_id=ticket.group_id
                ).exists()
            )
            if not in_group and ticket.group_id is None:
                ticket.group = data.assignee.default_group
                change("group_id", ticket.group.pk if ticket.group else None, None)
        if data.assignee is not None and data.assignee.pk != ticket.assignee_id:
            ticket.assigned_at = now
        change("assignee_id", data.assignee.pk if data.assignee else None, ticket.assignee_id)
        ticket.assignee = data.assignee
    elif (
        "group" in fields_set
        and ticket.assignee is not None
        and ticket.group is not None
        and not GroupMembership.objects.filter(user=ticket.assignee, group=ticket.group).exists()
    ):
        # Moving to another group keeps the assignee only if they belong to it.
        change("assignee_id", None, ticket.assignee_id)
        ticket.assignee = None
    _check_assignment(ticket.assignee, ticket.group)

    # Tags and custom fields -------------------------------------------------------------------
    fields = active_fields_by_id()
    tags = list(ticket.tags)
    if "tags" in fields_set:
        tags = normalize_tags(data.tags or [])
    tags = normalize_tags([*tags, *data.add_tags])
    removing = set(normalize_tags(data.remove_tags))
    tags = [t for t in tags if t not in removing]
    ticket.tags = tags
    if {"tags", "remove_tags"} & fields_set:
        _tag_fields_from_tags(ticket, fields)
    field_changes: dict[str, tuple[Any, Any]] = {}
    if "custom_fields" in fields_set:
        cleaned = clean_custom_fields(
            data.custom_fields or {}, for_end_user=is_end_user, fields=fields
        )
        add, remove, field_changes = _apply_custom_fields(ticket, cleaned, fields)
        ticket.tags = normalize_tags([t for t in ticket.tags if t not in remove] + sorted(add))
    for key, (new, old) in field_changes.items():
        audit.change(key[1:], new, old)
    if ticket.tags != previous_tags:
        audit.change("tags", ticket.tags, previous_tags)

    # Status -----------------------------------------------------------------------------------
    new_status, custom_status = _resolve_status(data, fields_set)
    if (
        new_status is None
        and comment is not None
        and is_end_user
        and ticket.status in (Status.PENDING, Status.SOLVED)
    ):
        new_status = Status.OPEN  # the customer answered: back to the agents
    if new_status is None and ticket.status == Status.NEW and ticket.assignee is not None:
        new_status = Status.OPEN
    if new_status == Status.NEW and ticket.status != Status.NEW:
        raise _error("status", _("A ticket cannot go back to new."))
    if new_status == Status.CLOSED and ticket.status != Status.SOLVED and actor is not None:
        raise _error("status", _("Only solved tickets can be closed."))
    if new_status in (Status.SOLVED, Status.CLOSED):
        if ticket.assignee is None and actor is not None and actor.is_agent:
            _check_assignment(actor, ticket.group)
            change("assignee_id", actor.pk, None)
            ticket.assignee, ticket.assigned_at = actor, now
        if new_status == Status.SOLVED and not is_end_user:
            _check_required(ticket.custom_fields, fields, in_portal=False)
    if new_status is not None:
        if custom_status is None:
            custom_status = (
                ticket.custom_status
                if new_status == ticket.status
                else default_custom_status(new_status)
            )
        if new_status != ticket.status:
            audit.change("status", new_status, ticket.status)
            ticket.status_updated_at = now
            if new_status == Status.SOLVED:
                ticket.solved_at = now
            elif new_status != Status.CLOSED:
                ticket.solved_at = None
        change("custom_status_id", custom_status.pk, ticket.custom_status_id)
        ticket.status = new_status
        ticket.custom_status = custom_status

    # Followers and CCs ------------------------------------------------------------------------
    if "followers" in fields_set:
        new_ids = sorted({u.pk for u in data.followers or [] if u.is_agent})
        old_ids = sorted(ticket.followers.values_list("pk", flat=True))
        if new_ids != old_ids:
            ticket.followers.set(new_ids)
            audit.change("follower_ids", new_ids, old_ids)
    if "email_ccs" in fields_set:
        new_ids = sorted({u.pk for u in data.email_ccs or []})
        old_ids = sorted(ticket.email_ccs.values_list("pk", flat=True))
        if new_ids != old_ids:
            ticket.email_ccs.set(new_ids)
            audit.change("email_cc_ids", new_ids, old_ids)

    # Comment ----------------------------------------------------------------------------------
    if comment is not None:
        _check_attachments(comment.attachments, actor)
        public = comment.public or is_end_user
        author = comment.author if comment.author is not None and actor_is_staff(actor) else actor
        if author is None:
            raise _error("comment", _("A comment needs an author."))
        if public and not ticket.is_public:
            ticket.is_public = True
            audit.change("is_public", True, False)
        record = _write_comment(
            ticket,
            comment.model_copy(update={"public": public}),
            audit=audit,
            author=author,
            via_channel=via_channel,
            created_at=now,
        )
        audit.comment(record)

    if not audit.events:
        return ticket
    ticket.updated_at = now
    if actor is not None and actor.pk == ticket.requester_id:
        ticket.requester_updated_at = now
    if actor is not None and actor.pk == ticket.assignee_id:
        ticket.assignee_updated_at = now
    ticket.save()
    _sync_tag_rows(ticket, previous_tags)
    audit.save()
    return ticket


def add_comment(
    ticket: Ticket,
    *,
    actor: User,
    body: str = "",
    html_body: str = "",
    public: bool = True,
    attachments: Iterable[Attachment] = (),
    via_channel: str | None = None,
) -> Comment:
    """Reply (public) or add an internal note; the status rules of ``update_ticket`` apply."""
    update_ticket(
        ticket,
        actor=actor,
        comment=NewComment(
            body=body,
            html_body=html_body,
            public=public,
            attachments=list(attachments),
            via_channel=via_channel,
        ),
    )
    return Comment.objects.filter(ticket=ticket).order_by("-created_at", "-id").first()  # type: ignore[return-value]


def _set_deleted(ticket: Ticket, *, actor: User, deleted: bool) -> None:
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if (ticket.deleted_at is not None) == deleted:
        return  # already so: deleting twice or restoring a live ticket changes nothing
    now = clock.now()
    ticket.deleted_at = now if deleted else None
    ticket.updated_at = now
    ticket.save(update_fields=["deleted_at", "updated_at"])
    audit = _AuditWriter(
        ticket, author=actor, via_channel=Channel.WEB, via_source={}, created_at=now
    )
    # The ticket's status stays; incremental exports show a deleted ticket as "deleted".
    before, after = (ticket.status, "deleted") if deleted else ("deleted", ticket.status)
    audit.other(
        EventType.DELETE if deleted else EventType.RESTORE,
        field_name="status",
        value=after,
        previous_value=before,
    )
    audit.save()


@transaction.atomic
def delete_ticket(ticket: Ticket, *, actor: User) -> None:
    """Move a ticket to deleted tickets (kept for history and incremental export)."""
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents delete tickets."))
    _set_deleted(ticket, actor=actor, deleted=True)


@transaction.atomic
def restore_ticket(ticket: Ticket, *, actor: User) -> None:
    """Bring a deleted ticket back, as it was."""
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents restore tickets."))
    _set_deleted(ticket, actor=actor, deleted=False)


def close_solved_tickets(*, now: dt.datetime | None = None, batch_size: int = 500) -> int:
    """Close tickets solved more than ``auto_close_days`` ago. Safe to run any number of times.

    Each ticket closes in its own transaction through ``update_ticket`` (audited, by the
    system), so a failure on one leaves the others closed.
    """
    now = now or clock.now()
    days = AccountSettings.load().auto_close_days
    cutoff = now - dt.timedelta(days=days)
    closed = 0
    failed: set[int] = set()
    while True:
        ids = list(
            Ticket.objects.filter(
                status=Status.SOLVED, solved_at__lte=cutoff, deleted_at__isnull=True
            )
            .exclude(pk__in=failed)
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return closed
        for ticket in Ticket.objects.filter(pk__in=ids):
            try:
                with clock.frozen_at(now):
                    update_ticket(
                        ticket,
                        actor=None,
                        data=TicketData(status=Status.CLOSED, via_channel=Channel.SYSTEM),
                    )
            except ValidationError:
                log.exception("could not close ticket #%s", ticket.pk)
                failed.add(ticket.pk)
            else:
                closed += 1
