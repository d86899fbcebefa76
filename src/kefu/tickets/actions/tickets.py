"""Creating and changing tickets: the one write path every channel, view and API calls.

``create_ticket`` and ``update_ticket`` take a ``TicketData`` (only the fields a caller set are
applied, see ``model_fields_set``) and an optional ``NewComment``. Each call validates
everything first, then writes the ticket, its comment and one ``Audit`` with its events in a
single transaction: it either happens completely or not at all.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.actions import normalize_tags
from kefu.accounts.models import User
from kefu.core import clock, configcache
from kefu.crm.actions import default_organization
from kefu.crm.models import OrganizationMembership

from .. import hooks
from ..choices import Channel, FieldType, Priority, Status, TicketType
from ..models import (
    Attachment,
    Audit,
    Comment,
    CustomStatus,
    Ticket,
    TicketField,
)
from . import changes as shared
from .audit import AuditWriter, create_event_values, sync_tag_rows, write_comment
from .checks import (
    actor_is_staff,
    check_assignment,
    check_attachments,
    check_choice,
    check_person,
    check_required,
    comment_author,
    comment_bodies,
    field_error,
)
from .data import END_USER_CREATE_FIELDS, NewComment, TicketData
from .fields import active_fields_by_id, clean_custom_fields, default_custom_status, field_tags

SUBJECT_FROM_DESCRIPTION_LENGTH = 80


def _apply_custom_fields(
    ticket: Ticket, cleaned: dict[str, Any], fields: dict[int, TicketField]
) -> tuple[set[str], set[str], dict[str, tuple[Any, Any]]]:
    """Apply validated values; return (tags to add, tags to remove, {key: (new, old)})."""
    add: set[str] = set()
    remove: set[str] = set()
    changed: dict[str, tuple[Any, Any]] = {}
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
        changed[key] = (value, old)
    ticket.custom_fields = values
    return add, remove - add, changed


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
            raise field_error("custom_status_id", _("This status is not active."))
        if status is not None and status != custom.status_category:
            raise field_error(
                "custom_status_id", _("The custom status does not belong to the status given.")
            )
        return custom.status_category, custom
    if status is not None:
        check_choice("status", status, Status.values, nullable=False)
        return status, None
    return None, None


# --- create -----------------------------------------------------------------------------------


def create_ticket(*, actor: User | None, data: TicketData, comment: NewComment | None) -> Ticket:
    """Open a ticket with its first comment (the description).

    ``actor`` is who does it (None: the system). End users create tickets for themselves and
    may only set the fields of END_USER_CREATE_FIELDS. Raises ValidationError naming the field
    and writes nothing when anything is invalid.
    """
    return create_ticket_and_audit(actor=actor, data=data, comment=comment).ticket


@dataclass(frozen=True)
class CreatedTicket:
    """What ``create_ticket_and_audit`` wrote, for a caller that answers with it (the API's
    ``{ticket, audit}``) without reading it back."""

    ticket: Ticket
    # The create audit; hooks may have added events to it (read them from the database).
    audit: Audit
    comment: Comment
    attachments: list[Attachment]
    email_cc_ids: list[int]
    follower_ids: list[int]
    # False when a change made by a hook wrote the ticket again (read it back then).
    as_written: bool


@configcache.in_unit
@transaction.atomic
def create_ticket_and_audit(
    *, actor: User | None, data: TicketData, comment: NewComment | None
) -> CreatedTicket:
    """``create_ticket``, returning what it wrote (see ``CreatedTicket``)."""
    fields_set = data.model_fields_set
    if actor is not None and actor.is_light_agent:
        raise PermissionDenied(_("Light agents cannot open tickets."))
    is_end_user = actor is not None and actor.is_end_user
    if is_end_user:
        forbidden = fields_set - END_USER_CREATE_FIELDS
        if forbidden:
            raise PermissionDenied(
                _("Customers cannot set %(f)s.") % {"f": ", ".join(sorted(forbidden))}
            )
    if comment is None:
        raise field_error("comment", _("A new ticket needs a description."))
    now = clock.now()

    requester = data.requester or (actor if is_end_user else None)
    if requester is None:
        raise field_error("requester_id", _("A ticket needs a requester."))
    check_person("requester_id", requester)
    if is_end_user and requester.pk != actor.pk:  # type: ignore[union-attr]
        raise PermissionDenied(_("Customers open tickets for themselves."))
    submitter = data.submitter or actor or requester
    check_person("submitter_id", submitter)
    assignee = data.assignee
    check_person("assignee_id", assignee, agent=True)

    status, custom_status = _resolve_status(data, fields_set)
    if status is None:
        status = Status.OPEN if assignee is not None else Status.NEW
    if status == Status.CLOSED:
        raise field_error("status", _("A new ticket cannot be closed."))
    if status == Status.NEW and assignee is not None:
        status = Status.OPEN  # an assigned ticket is being worked on
    custom_status = custom_status or default_custom_status(status)
    check_choice("priority", data.priority, Priority.values, nullable=True)
    check_choice("type", data.type, TicketType.values, nullable=True)
    via_channel = data.via_channel or Channel.WEB
    check_choice("via_channel", via_channel, Channel.values, nullable=False)

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
        raise field_error(
            "organization_id", _("The requester is not a member of this organization.")
        )
    group = data.group
    if group is None and assignee is not None:
        group = assignee.default_group
    if group is None and organization is not None:
        group = organization.group
    check_assignment(assignee, group)

    fields = active_fields_by_id()
    cleaned_fields = clean_custom_fields(
        data.custom_fields or {}, for_end_user=is_end_user, fields=fields
    )
    if is_end_user:
        check_required(cleaned_fields, fields, in_portal=True)
    tags = normalize_tags([*(data.tags or []), *data.add_tags])
    if data.due_at is not None and data.type != TicketType.TASK:
        raise field_error("due_at", _("Only tasks have a due date."))
    if data.problem is not None and data.type != TicketType.INCIDENT:
        raise field_error("problem_id", _("Only incidents are linked to a problem."))
    if data.problem is not None and data.problem.type != TicketType.PROBLEM:
        raise field_error("problem_id", _("The linked ticket is not a problem."))

    body_text, _html = comment_bodies(comment)
    subject = (data.subject or "").strip()
    if not subject:
        subject = body_text.splitlines()[0][:SUBJECT_FROM_DESCRIPTION_LENGTH] if body_text else ""
    if not subject:
        raise field_error("subject", _("A ticket needs a subject."))
    check_attachments(comment.attachments, actor)
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
        check_required(ticket.custom_fields, fields, in_portal=False)
    ticket.save()
    sync_tag_rows(ticket, [])
    followers = [u for u in data.followers or [] if u.is_agent]
    if followers:
        ticket.followers.set(followers)
    if data.email_ccs:
        ticket.email_ccs.set(data.email_ccs)

    audit = AuditWriter(
        ticket,
        author=actor,
        via_channel=via_channel,
        via_source=ticket.via_source,
        created_at=now,
    )
    for name, value in create_event_values(ticket).items():
        audit.create(name, value)
    author = comment_author(comment.author, actor) or requester
    record = write_comment(
        ticket,
        comment.model_copy(update={"public": comment_public}),
        audit=audit,
        author=author,
        via_channel=via_channel,
        created_at=now,
    )
    audit.comment(record)
    saved = audit.save()
    assert saved is not None
    with hooks.watch() as touched:
        hooks.run(
            hooks.TicketChange(
                ticket=ticket,
                kind="create",
                actor=actor,
                audit=saved,
                events=audit.events,
                comment=record,
                via_channel=via_channel,
                depth=hooks.current_depth(),
                # What the ticket was created with, for hooks that would read it back
                # (valid while hooks.rewritten(ticket.pk) is False).
                notes={"email_cc_ids": sorted({u.pk for u in data.email_ccs or []})},
            )
        )
    return CreatedTicket(
        ticket=ticket,
        audit=saved,
        comment=record,
        attachments=list(comment.attachments),
        email_cc_ids=sorted({u.pk for u in data.email_ccs or []}),
        follower_ids=sorted({u.pk for u in followers}),
        as_written=ticket.pk not in touched,
    )


# --- update -----------------------------------------------------------------------------------


@configcache.in_unit
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
    fields_set = shared.fields_set(data)
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("custom_status")
        .get(pk=ticket.pk)
    )
    shared.check_changeable(ticket, actor, data, fields_set)
    is_end_user = actor is not None and actor.is_end_user
    is_light_agent = actor is not None and actor.is_light_agent
    if not fields_set - {"via_channel", "via_source"} and comment is None:
        return ticket
    now = clock.now()
    via_channel = data.via_channel or (comment.via_channel if comment else None) or Channel.WEB
    check_choice("via_channel", via_channel, Channel.values, nullable=False)
    audit = AuditWriter(
        ticket,
        author=actor,
        via_channel=via_channel,
        via_source=data.via_source or (comment.via_source if comment else {}),
        created_at=now,
        join=hooks.open_audit(ticket.pk),
    )
    previous_tags = list(ticket.tags)

    def change(name: str, new: Any, old: Any) -> None:
        if new != old:
            audit.change(name, new, old)

    # Simple attributes -----------------------------------------------------------------------
    if "subject" in fields_set:
        subject = (data.subject or "").strip()
        if not subject:
            raise field_error("subject", _("A ticket needs a subject."))
        change("subject", subject, ticket.subject)
        ticket.subject = subject[:500]
    shared.apply_priority_and_type(ticket, data, fields_set, change)
    if "external_id" in fields_set:
        change("external_id", data.external_id or None, ticket.external_id)
        ticket.external_id = data.external_id or None
    if "due_at" in fields_set:
        if data.due_at is not None and ticket.type != TicketType.TASK:
            raise field_error("due_at", _("Only tasks have a due date."))
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
                raise field_error("problem_id", _("Only incidents are linked to a problem."))
            if data.problem.type != TicketType.PROBLEM or data.problem.pk == ticket.pk:
                raise field_error("problem_id", _("The linked ticket is not a problem."))
        change("problem_id", data.problem.pk if data.problem else None, ticket.problem_id)
        ticket.problem = data.problem

    # People -----------------------------------------------------------------------------------
    if "requester" in fields_set:
        if data.requester is None:
            raise field_error("requester_id", _("A ticket needs a requester."))
        check_person("requester_id", data.requester)
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
    shared.apply_group_and_assignee(
        ticket,
        data,
        fields_set,
        change,
        members=shared.QueriedMemberships(),
        default_group=lambda user: user.default_group,
        now=now,
    )

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
        raise field_error("status", _("A ticket cannot go back to new."))
    if new_status == Status.CLOSED and ticket.status != Status.SOLVED and actor is not None:
        raise field_error("status", _("Only solved tickets can be closed."))
    if new_status in (Status.SOLVED, Status.CLOSED):
        if ticket.assignee is None and actor is not None and actor.is_agent:
            check_assignment(actor, ticket.group)
            change("assignee_id", actor.pk, None)
            ticket.assignee, ticket.assigned_at = actor, now
        if new_status == Status.SOLVED and not is_end_user:
            check_required(ticket.custom_fields, fields, in_portal=False)
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
    record: Comment | None = None
    if comment is not None:
        check_attachments(comment.attachments, actor)
        public = comment.public or is_end_user
        if public and is_light_agent:
            raise PermissionDenied(_("Light agents can only add internal notes."))
        author = comment_author(comment.author, actor)
        if author is None:
            raise field_error("comment", _("A comment needs an author."))
        if public and not ticket.is_public:
            ticket.is_public = True
            audit.change("is_public", True, False)
        record = write_comment(
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
    shared.stamp_update(ticket, actor, now)
    ticket.save()
    sync_tag_rows(ticket, previous_tags)
    saved = audit.save()
    assert saved is not None
    hooks.run(
        hooks.TicketChange(
            ticket=ticket,
            kind="update",
            actor=actor,
            audit=saved,
            events=audit.events,
            comment=record,
            via_channel=via_channel,
            depth=hooks.current_depth(),
        )
    )
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
