"""Validation shared by the ticket actions. Each check raises ValidationError naming the field
(or PermissionDenied) before anything is written."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.models import Group, GroupMembership, User
from kefu.core.html import html_to_text, sanitize_html, text_to_html

from ..models import Attachment, TicketField
from .data import NewComment


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def actor_is_staff(actor: User | None) -> bool:
    return actor is None or actor.is_agent


def comment_author(author: User | None, actor: User | None) -> User | None:
    """Who wrote a comment: an explicit author counts only when staff (or the system) writes
    it on their behalf (the API's ``author_id``, imports); otherwise the actor."""
    return author if author is not None and actor_is_staff(actor) else actor


# How a field is named inside a sentence, in the user's language.
FIELD_LABELS = {
    "status": gettext_lazy("status"),
    "priority": gettext_lazy("priority"),
    "type": gettext_lazy("type"),
    "via_channel": gettext_lazy("channel"),
}


def check_choice(field: str, value: str | None, choices: list[str], nullable: bool) -> None:
    if value is None:
        if not nullable:
            raise field_error(field, _("This field is required."))
        return
    if value not in choices:
        raise field_error(
            field,
            _("“%(value)s” is not a valid %(field)s.")
            % {"value": value, "field": FIELD_LABELS.get(field, field)},
        )


def check_person(field: str, user: User | None, *, agent: bool = False) -> None:
    if user is None:
        return
    # An instance loaded from the database exists (a concurrent delete still fails on the
    # foreign key); an unsaved or made-up one does not.
    if user.pk is None or user._state.adding:
        raise field_error(field, _("This person does not exist."))
    if agent and not user.is_agent:
        raise field_error(field, _("%(name)s is not an agent.") % {"name": user.name})
    if agent and (not user.is_active or user.suspended):
        raise field_error(field, _("%(name)s cannot be assigned tickets.") % {"name": user.name})


def check_assignment(assignee: User | None, group: Group | None) -> None:
    """An assignee must belong to the ticket's group (Zendesk refuses it too)."""
    if assignee is None or group is None:
        return
    if not GroupMembership.objects.filter(user=assignee, group=group).exists():
        raise field_error(
            "assignee_id",
            _("%(name)s is not a member of the group %(group)s.")
            % {"name": assignee.name, "group": group.name},
        )


def check_required(
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


def comment_bodies(comment: NewComment) -> tuple[str, str]:
    if comment.html_body.strip():
        html_body = sanitize_html(comment.html_body)
        body = html_to_text(html_body)
    else:
        body = comment.body.strip()
        html_body = text_to_html(body)
    if not body and not comment.attachments:
        raise field_error("comment", _("The comment is empty."))
    return body, html_body


def check_attachments(attachments: Iterable[Attachment], actor: User | None) -> None:
    """Uploads must exist, be unused, and (for end users) be their own."""
    ids = [a.pk for a in attachments]
    if not ids:
        return
    usable = Attachment.objects.filter(pk__in=ids, comment__isnull=True)
    if actor is not None and not actor.is_agent:
        usable = usable.filter(uploader=actor)
    if usable.count() != len(set(ids)):
        raise field_error("uploads", _("This upload was already used or does not exist."))
