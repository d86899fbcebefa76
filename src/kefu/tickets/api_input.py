"""Turning the API's ticket JSON into the actions' ``TicketData`` and ``NewComment``.

Ids become objects here (unknown ids: 422 naming the field); the rules stay in the actions.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from kefu.accounts.models import Group, User
from kefu.crm import actions as crm_actions
from kefu.crm.models import Organization

from . import access
from .actions import NewComment, TicketData, find_upload
from .choices import Channel
from .models import CustomStatus, Ticket
from .schemas import CommentIn, TicketIn


def unknown(field: str, value: Any) -> ValidationError:
    return ValidationError({field: [_("There is no record with id %(id)s.") % {"id": value}]})


def _user(field: str, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise unknown(field, user_id)
    return user


def _users(field: str, ids: list[int] | None) -> list[User]:
    wanted = set(ids or [])
    users = list(User.objects.filter(pk__in=wanted))
    missing = wanted - {u.pk for u in users}
    if missing:
        raise unknown(field, min(missing))
    return users


def _get(model: Any, field: str, pk: int | None) -> Any:
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise unknown(field, pk)
    return obj


def _due_at(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None and (day := parse_date(value)) is not None:
        parsed = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    if parsed is None:
        raise ValidationError({"due_at": [_("Enter a valid date and time.")]})
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def requester_from(actor: User, payload: TicketIn) -> User | None:
    """``requester: {name, email}``: the person with that email, created as an end user on
    first contact (Zendesk's find-or-create)."""
    if payload.requester is None:
        return None
    email = (payload.requester.email or "").strip()
    if not email:
        raise ValidationError({"requester": [_("The requester needs an email address.")]})
    if not actor.is_full_agent:
        raise ValidationError({"requester": [_("Only agents can set the requester.")]})
    return crm_actions.find_or_create_end_user(email=email, name=payload.requester.name or "")


def ticket_data(actor: User, payload: TicketIn) -> TicketData:
    given = payload.model_fields_set
    values: dict[str, Any] = {"via_channel": Channel.API}
    if "subject" in given or "raw_subject" in given:
        values["subject"] = payload.subject if "subject" in given else payload.raw_subject
    for name in ("status", "priority", "type", "external_id"):
        if name in given:
            values[name] = getattr(payload, name)
    if "due_at" in given:
        values["due_at"] = _due_at(payload.due_at)
    if "tags" in given:
        values["tags"] = payload.tags or []
    if payload.additional_tags:
        values["add_tags"] = payload.additional_tags
    if payload.remove_tags:
        values["remove_tags"] = payload.remove_tags
    if "requester" in given and payload.requester is not None:
        values["requester"] = requester_from(actor, payload)
    elif "requester_id" in given:
        values["requester"] = _user("requester_id", payload.requester_id)
    if "submitter_id" in given:
        values["submitter"] = _user("submitter_id", payload.submitter_id)
    if "assignee_email" in given and payload.assignee_email:
        assignee = User.objects.filter(email=payload.assignee_email.strip().lower()).first()
        if assignee is None:
            raise unknown("assignee_email", payload.assignee_email)
        values["assignee"] = assignee
    elif "assignee_id" in given:
        values["assignee"] = _user("assignee_id", payload.assignee_id)
    if "group_id" in given:
        values["group"] = _get(Group, "group_id", payload.group_id)
    if "organization_id" in given:
        values["organization"] = _get(Organization, "organization_id", payload.organization_id)
    if "custom_status_id" in given and payload.custom_status_id is not None:
        values["custom_status"] = _get(CustomStatus, "custom_status_id", payload.custom_status_id)
    if "problem_id" in given:
        problem = None
        if payload.problem_id is not None:
            problem = access.visible_tickets(actor).filter(pk=payload.problem_id).first()
            if problem is None:
                raise unknown("problem_id", payload.problem_id)
        values["problem"] = problem
    ccs = payload.email_cc_ids if "email_cc_ids" in given else payload.collaborator_ids
    if "email_cc_ids" in given or "collaborator_ids" in given:
        values["email_ccs"] = _users("email_cc_ids", ccs)
    if "follower_ids" in given:
        values["followers"] = _users("follower_ids", payload.follower_ids)
    field_values = payload.custom_fields if "custom_fields" in given else payload.fields
    if ("custom_fields" in given or "fields" in given) and field_values is not None:
        values["custom_fields"] = {f.id: f.value for f in field_values}
    return TicketData(**values)


def new_comment(actor: User, comment: CommentIn | None) -> NewComment | None:
    if comment is None:
        return None
    return NewComment(
        body=comment.body or "",
        html_body=comment.html_body or "",
        public=comment.public,
        author=_user("author_id", comment.author_id),
        attachments=[find_upload(token, user=actor) for token in comment.uploads],
        via_channel=Channel.API,
    )


def first_comment(actor: User, payload: TicketIn) -> NewComment | None:
    """A new ticket's first comment: ``comment``, or ``description`` as Zendesk allows."""
    if payload.comment is not None:
        return new_comment(actor, payload.comment)
    if payload.description:
        return NewComment(body=payload.description, via_channel=Channel.API)
    return None


def latest_audit_id(ticket: Ticket) -> int:
    last = ticket.audits.order_by("-id").values_list("id", flat=True).first()
    return last or 0
