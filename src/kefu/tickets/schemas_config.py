"""API shapes of ticket configuration: custom statuses and ticket fields (Zendesk's)."""

from typing import Any

from django.http import HttpRequest
from ninja import Schema

from kefu.api.formats import timestamp
from kefu.api.pagination import api_url
from kefu.api.schemas import PageFields

from .models import CustomStatus, TicketField, TicketFieldOption

# --- custom statuses --------------------------------------------------------------------------


class CustomStatusOut(Schema):
    id: int
    url: str
    status_category: str
    agent_label: str
    raw_agent_label: str
    end_user_label: str
    raw_end_user_label: str
    description: str
    raw_description: str
    end_user_description: str
    raw_end_user_description: str
    active: bool
    default: bool
    translations: dict[str, Any]
    created_at: str
    updated_at: str


class CustomStatusEnvelope(Schema):
    custom_status: CustomStatusOut


class CustomStatusList(Schema):
    custom_statuses: list[CustomStatusOut]


class CustomStatusIn(Schema):
    status_category: str | None = None
    agent_label: str | None = None
    end_user_label: str | None = None
    description: str | None = None
    end_user_description: str | None = None
    translations: dict[str, Any] | None = None
    active: bool | None = None


class CustomStatusInEnvelope(Schema):
    custom_status: CustomStatusIn


def custom_status_json(request: HttpRequest, s: CustomStatus) -> dict[str, Any]:
    return {
        "id": s.pk,
        "url": api_url(request, f"custom_statuses/{s.pk}"),
        "status_category": s.status_category,
        "agent_label": s.label_for_agent(),
        "raw_agent_label": s.agent_label,
        "end_user_label": s.label_for_end_user(),
        "raw_end_user_label": s.end_user_label,
        "description": s.description,
        "raw_description": s.description,
        "end_user_description": s.end_user_description,
        "raw_end_user_description": s.end_user_description,
        "active": s.active,
        "default": s.default,
        "translations": s.translations,
        "created_at": timestamp(s.created_at),
        "updated_at": timestamp(s.updated_at),
    }


# --- ticket fields ----------------------------------------------------------------------------


class FieldOptionOut(Schema):
    id: int
    name: str
    raw_name: str
    value: str
    default: bool
    position: int


class TicketFieldOut(Schema):
    id: int
    url: str
    type: str
    title: str
    raw_title: str
    description: str
    raw_description: str
    position: int
    active: bool
    required: bool
    collapsed_for_agents: bool
    regexp_for_validation: str | None
    title_in_portal: str
    raw_title_in_portal: str
    visible_in_portal: bool
    editable_in_portal: bool
    required_in_portal: bool
    tag: str | None
    removable: bool
    key: str | None
    agent_description: str | None
    custom_field_options: list[FieldOptionOut] | None
    created_at: str
    updated_at: str


class TicketFieldEnvelope(Schema):
    ticket_field: TicketFieldOut


class TicketFieldList(PageFields):
    ticket_fields: list[TicketFieldOut]


class FieldOptionIn(Schema):
    name: str
    value: str


class TicketFieldIn(Schema):
    type: str | None = None
    title: str | None = None
    description: str | None = None
    title_in_portal: str | None = None
    position: int | None = None
    active: bool | None = None
    required: bool | None = None
    required_in_portal: bool | None = None
    visible_in_portal: bool | None = None
    editable_in_portal: bool | None = None
    regexp_for_validation: str | None = None
    tag: str | None = None
    custom_field_options: list[FieldOptionIn] | None = None


class TicketFieldInEnvelope(Schema):
    ticket_field: TicketFieldIn


def _option_json(o: TicketFieldOption) -> dict[str, Any]:
    return {"id": o.pk, "name": o.name, "raw_name": o.name, "value": o.value,
            "default": o.default, "position": o.position}  # fmt: skip


def ticket_field_json(request: HttpRequest, f: TicketField) -> dict[str, Any]:
    """Needs ``options`` prefetched for lists (``TicketField.objects.prefetch_related``)."""
    return {
        "id": f.pk,
        "url": api_url(request, f"ticket_fields/{f.pk}"),
        "type": f.type,
        "title": f.title,
        "raw_title": f.title,
        "description": f.description,
        "raw_description": f.description,
        "position": f.position,
        "active": f.active,
        "required": f.required,
        "collapsed_for_agents": False,
        "regexp_for_validation": f.regexp_for_validation or None,
        "title_in_portal": f.title_in_portal or f.title,
        "raw_title_in_portal": f.title_in_portal or f.title,
        "visible_in_portal": f.visible_in_portal,
        "editable_in_portal": f.editable_in_portal,
        "required_in_portal": f.required_in_portal,
        "tag": f.tag or None,
        "removable": True,
        "key": None,
        "agent_description": None,
        "custom_field_options": [_option_json(o) for o in f.options.all()]
        if f.has_options
        else None,
        "created_at": timestamp(f.created_at),
        "updated_at": timestamp(f.updated_at),
    }
