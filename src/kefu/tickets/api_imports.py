"""Zendesk's ticket import format (``imports/tickets``) -> ``ImportedTicket``."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from ninja import Schema

from kefu.accounts.models import Group, User
from kefu.crm.models import Organization

from .actions import ImportedComment, ImportedTicket
from .api_input import _get, _user, unknown
from .choices import Status
from .models import CustomStatus


class ImportCommentIn(Schema):
    author_id: int | None = None
    value: str | None = None
    body: str | None = None
    html_body: str | None = None
    public: bool = True
    created_at: str | None = None


class ImportTicketIn(Schema):
    subject: str | None = None
    description: str | None = None
    comments: list[ImportCommentIn] = []
    requester_id: int | None = None
    submitter_id: int | None = None
    assignee_id: int | None = None
    group_id: int | None = None
    organization_id: int | None = None
    status: str | None = None
    custom_status_id: int | None = None
    priority: str | None = None
    type: str | None = None
    tags: list[str] = []
    external_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    solved_at: str | None = None


class ImportEnvelope(Schema):
    ticket: ImportTicketIn


class ImportManyEnvelope(Schema):
    tickets: list[ImportTicketIn]


def _time(field: str, value: str | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValidationError({field: [_("Enter a valid date and time.")]})
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def check_importer(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Only admins import tickets."))


def imported_ticket(raw: dict[str, Any] | ImportTicketIn) -> ImportedTicket:
    item = raw if isinstance(raw, ImportTicketIn) else ImportTicketIn.model_validate(raw)
    requester = _user("requester_id", item.requester_id)
    if requester is None:
        raise ValidationError({"requester_id": [_("A ticket needs a requester.")]})
    comments = [
        ImportedComment(
            author=_user("author_id", c.author_id) or requester,
            body=c.body if c.body is not None else (c.value or ""),
            html_body=c.html_body or "",
            public=c.public,
            created_at=_time("comments.created_at", c.created_at),
        )
        for c in item.comments
    ]
    if not comments and item.description:
        comments = [
            ImportedComment(
                author=requester,
                body=item.description,
                created_at=_time("created_at", item.created_at),
            )
        ]
    if not comments:
        raise ValidationError({"comments": [_("A new ticket needs a description.")]})
    subject = (item.subject or "").strip() or comments[0].body.strip().splitlines()[0][:80]
    if not subject:
        raise ValidationError({"subject": [_("A ticket needs a subject.")]})
    custom_status = None
    if item.custom_status_id is not None:
        custom_status = CustomStatus.objects.filter(pk=item.custom_status_id).first()
        if custom_status is None:
            raise unknown("custom_status_id", item.custom_status_id)
    status = item.status or (custom_status.status_category if custom_status else Status.OPEN)
    return ImportedTicket(
        subject=subject,
        requester=requester,
        comments=comments,
        submitter=_user("submitter_id", item.submitter_id),
        assignee=_user("assignee_id", item.assignee_id),
        group=_get(Group, "group_id", item.group_id),
        organization=_get(Organization, "organization_id", item.organization_id),
        status=status,
        custom_status=custom_status,
        priority=item.priority,
        type=item.type,
        tags=item.tags,
        external_id=item.external_id,
        created_at=_time("created_at", item.created_at),
        updated_at=_time("updated_at", item.updated_at),
        solved_at=_time("solved_at", item.solved_at),
    )
