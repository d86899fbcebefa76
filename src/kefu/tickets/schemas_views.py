"""API shapes of views and macros (Zendesk's)."""

from typing import Any

from django.http import HttpRequest
from ninja import Schema

from kefu.api.formats import timestamp
from kefu.api.pagination import api_url
from kefu.api.schemas import PageFields

from .choices import Restriction
from .models import Macro, RestrictedModel, View


class RestrictionOut(Schema):
    type: str
    id: int
    ids: list[int] | None = None


class ViewOut(Schema):
    id: int
    url: str
    title: str
    raw_title: str
    description: str
    active: bool
    position: int
    default: bool
    restriction: RestrictionOut | None
    conditions: dict[str, Any]
    execution: dict[str, Any]
    created_at: str
    updated_at: str


class ViewEnvelope(Schema):
    view: ViewOut


class ViewList(PageFields):
    views: list[ViewOut]


class ViewCountOut(Schema):
    view_id: int
    url: str
    value: int
    pretty: str
    fresh: bool


class ViewCountEnvelope(Schema):
    view_count: ViewCountOut


class MacroOut(Schema):
    id: int
    url: str
    title: str
    raw_title: str
    description: str
    active: bool
    position: int
    default: bool
    restriction: RestrictionOut | None
    actions: list[dict[str, Any]]
    usage_count: int
    created_at: str
    updated_at: str


class MacroEnvelope(Schema):
    macro: MacroOut


class MacroList(PageFields):
    macros: list[MacroOut]


class RestrictionIn(Schema):
    type: str
    id: int | None = None
    ids: list[int] | None = None


class OutputIn(Schema):
    columns: list[str] | None = None
    sort_by: str | None = None
    sort_order: str | None = None
    group_by: str | None = None
    group_order: str | None = None


class ViewIn(Schema):
    title: str | None = None
    description: str | None = None
    active: bool | None = None
    position: int | None = None
    restriction: RestrictionIn | None = None
    conditions: dict[str, Any] | None = None
    all: list[dict[str, Any]] | None = None
    any: list[dict[str, Any]] | None = None
    execution: OutputIn | None = None
    output: OutputIn | None = None


class ViewInEnvelope(Schema):
    view: ViewIn


class MacroIn(Schema):
    title: str | None = None
    description: str | None = None
    active: bool | None = None
    position: int | None = None
    restriction: RestrictionIn | None = None
    actions: list[dict[str, Any]] | None = None


class MacroInEnvelope(Schema):
    macro: MacroIn


class MacroComment(Schema):
    body: str
    html_body: str
    public: bool


class MacroResultOut(Schema):
    ticket: dict[str, Any]
    comment: MacroComment | None


class MacroResultEnvelope(Schema):
    result: MacroResultOut


def restriction_json(obj: RestrictedModel) -> dict[str, Any] | None:
    if obj.restriction == Restriction.GROUP and obj.restriction_group_id:
        return {"type": "Group", "id": obj.restriction_group_id,
                "ids": [obj.restriction_group_id]}  # fmt: skip
    if obj.restriction == Restriction.USER and obj.restriction_user_id:
        return {"type": "User", "id": obj.restriction_user_id}
    return None


def view_json(request: HttpRequest, v: View) -> dict[str, Any]:
    execution = dict(v.execution or {})
    execution["columns"] = [{"id": c, "title": c} for c in execution.get("columns", [])]
    return {
        "id": v.pk,
        "url": api_url(request, f"views/{v.pk}"),
        "title": v.title,
        "raw_title": v.title,
        "description": v.description,
        "active": v.active,
        "position": v.position,
        "default": False,
        "restriction": restriction_json(v),
        "conditions": {"all": v.conditions.get("all", []), "any": v.conditions.get("any", [])},
        "execution": execution,
        "created_at": timestamp(v.created_at),
        "updated_at": timestamp(v.updated_at),
    }


def macro_json(request: HttpRequest, m: Macro) -> dict[str, Any]:
    return {
        "id": m.pk,
        "url": api_url(request, f"macros/{m.pk}"),
        "title": m.title,
        "raw_title": m.title,
        "description": m.description,
        "active": m.active,
        "position": m.position,
        "default": False,
        "restriction": restriction_json(m),
        "actions": list(m.actions),
        "usage_count": m.usage_count,
        "created_at": timestamp(m.created_at),
        "updated_at": timestamp(m.updated_at),
    }
