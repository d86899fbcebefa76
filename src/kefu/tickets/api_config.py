"""Ticket configuration endpoints: ``custom_statuses`` and ``ticket_fields`` (admins change
them; agents read them; end users read the fields shown in the portal)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from kefu.accounts.models import User
from kefu.api.auth import current_user
from kefu.api.pagination import paginate

from . import access, actions
from .models import CustomStatus, TicketField
from .schemas_config import (
    CustomStatusEnvelope,
    CustomStatusInEnvelope,
    CustomStatusList,
    TicketFieldEnvelope,
    TicketFieldInEnvelope,
    TicketFieldList,
    custom_status_json,
    ticket_field_json,
)

router = Router(tags=["Ticket configuration"])

TEXT_ATTRIBUTES = {
    "agent_label", "end_user_label", "description", "end_user_description", "title",
    "title_in_portal", "regexp_for_validation", "tag", "type", "status_category",
}  # fmt: skip


def without_nulls(changes: dict) -> dict:
    """``null`` from a client: empty text, or "leave as is" for flags, numbers, objects."""
    return {
        k: ("" if v is None else v)
        for k, v in changes.items()
        if v is not None or k in TEXT_ATTRIBUTES
    }


def _admin(request: HttpRequest) -> User:
    user = current_user(request)
    if not access.can_configure(user):
        raise PermissionDenied(_("Only admins change ticket fields and statuses."))
    return user


def _agent(request: HttpRequest) -> User:
    user = current_user(request)
    if not user.is_agent:
        raise PermissionDenied(_("Only agents see this."))
    return user


# --- custom statuses --------------------------------------------------------------------------


@router.get("custom_statuses", response=CustomStatusList, summary="List custom statuses")
def list_custom_statuses(
    request: HttpRequest,
    status_categories: str | None = None,
    active: bool | None = None,
    default: bool | None = None,
) -> dict:
    _agent(request)
    statuses = CustomStatus.objects.order_by("status_category", "agent_label", "id")
    if status_categories:
        statuses = statuses.filter(status_category__in=status_categories.split(","))
    if active is not None:
        statuses = statuses.filter(active=active)
    if default is not None:
        statuses = statuses.filter(default=default)
    return {"custom_statuses": [custom_status_json(request, s) for s in statuses]}


@router.get(
    "custom_statuses/{int:status_id}", response=CustomStatusEnvelope, summary="Show a status"
)
def show_custom_status(request: HttpRequest, status_id: int) -> dict:
    _agent(request)
    return {"custom_status": custom_status_json(request, CustomStatus.objects.get(pk=status_id))}


@router.post(
    "custom_statuses", response={201: CustomStatusEnvelope}, summary="Create a custom status"
)
def create_custom_status(request: HttpRequest, payload: CustomStatusInEnvelope) -> Status:
    _admin(request)
    data = without_nulls(payload.custom_status.model_dump(exclude_unset=True))
    if not data.get("status_category"):
        raise ValidationError({"status_category": [_("This field is required.")]})
    data.setdefault("agent_label", "")
    status = actions.create_custom_status(**data)
    return Status(201, {"custom_status": custom_status_json(request, status)})


@router.put(
    "custom_statuses/{int:status_id}",
    response=CustomStatusEnvelope,
    summary="Update a custom status",
)
def update_custom_status(
    request: HttpRequest, status_id: int, payload: CustomStatusInEnvelope
) -> dict:
    _admin(request)
    status = CustomStatus.objects.get(pk=status_id)
    changes = without_nulls(payload.custom_status.model_dump(exclude_unset=True))
    if "status_category" in changes and changes["status_category"] == status.status_category:
        changes.pop("status_category")  # clients send the whole object back
    status = actions.update_custom_status(status, **changes)
    return {"custom_status": custom_status_json(request, status)}


# --- ticket fields ----------------------------------------------------------------------------


def _visible_fields(user: User) -> QuerySet[TicketField]:
    fields = TicketField.objects.prefetch_related("options")
    return fields if user.is_agent else fields.filter(active=True, visible_in_portal=True)


@router.get(
    "ticket_fields", response=TicketFieldList, exclude_unset=True, summary="List ticket fields"
)
def list_ticket_fields(request: HttpRequest) -> HttpResponse:
    return paginate(
        request,
        _visible_fields(current_user(request)),
        key="ticket_fields",
        serialize=lambda rows: [ticket_field_json(request, f) for f in rows],
        ordering=("position", "id"),
    )


@router.get(
    "ticket_fields/{int:field_id}", response=TicketFieldEnvelope, summary="Show a ticket field"
)
def show_ticket_field(request: HttpRequest, field_id: int) -> dict:
    field = _visible_fields(current_user(request)).get(pk=field_id)
    return {"ticket_field": ticket_field_json(request, field)}


def _field_changes(payload: TicketFieldInEnvelope) -> tuple[dict, list | None]:
    changes = payload.ticket_field.model_dump(exclude_unset=True)
    options = changes.pop("custom_field_options", None)
    return without_nulls(changes), (
        [(o["name"], o["value"]) for o in options] if options is not None else None
    )


@router.post("ticket_fields", response={201: TicketFieldEnvelope}, summary="Create a ticket field")
def create_ticket_field(request: HttpRequest, payload: TicketFieldInEnvelope) -> Status:
    _admin(request)
    changes, options = _field_changes(payload)
    for required in ("type", "title"):
        if not changes.get(required):
            raise ValidationError({required: [_("This field is required.")]})
    field = actions.create_ticket_field(**changes, options=options)
    field = TicketField.objects.prefetch_related("options").get(pk=field.pk)
    return Status(201, {"ticket_field": ticket_field_json(request, field)})


@router.put(
    "ticket_fields/{int:field_id}", response=TicketFieldEnvelope, summary="Update a ticket field"
)
def update_ticket_field(
    request: HttpRequest, field_id: int, payload: TicketFieldInEnvelope
) -> dict:
    _admin(request)
    field = TicketField.objects.get(pk=field_id)
    changes, options = _field_changes(payload)
    if changes.get("type") == field.type:
        changes.pop("type")  # clients send the whole object back
    actions.update_ticket_field(field, options=options, **changes)
    field = TicketField.objects.prefetch_related("options").get(pk=field.pk)
    return {"ticket_field": ticket_field_json(request, field)}


@router.delete(
    "ticket_fields/{int:field_id}", response={204: None}, summary="Delete a ticket field"
)
def delete_ticket_field(request: HttpRequest, field_id: int) -> Status:
    _admin(request)
    actions.delete_ticket_field(TicketField.objects.get(pk=field_id))
    return Status(204, None)
