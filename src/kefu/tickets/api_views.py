"""Views and macros: CRUD, a view's tickets and count, and what a macro would do."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from kefu.accounts.models import Group, User
from kefu.api.auth import current_user
from kefu.api.pagination import api_url, paginate

from . import access, actions
from .actions import MacroResult
from .api_input import unknown
from .choices import Restriction
from .models import Ticket
from .schemas import TicketList, ticket_json, tickets_json
from .schemas_views import (
    MacroEnvelope,
    MacroInEnvelope,
    MacroList,
    MacroResultEnvelope,
    RestrictionIn,
    ViewCountEnvelope,
    ViewEnvelope,
    ViewInEnvelope,
    ViewList,
    macro_json,
    view_json,
)

router = Router(tags=["Views and macros"])


def _restriction(value: RestrictionIn | None) -> dict[str, Any]:
    """Zendesk's ``{"type": "Group"|"User", "id"}`` (or null: everyone) -> action keywords."""
    if value is None:
        return {"restriction": Restriction.SHARED, "restriction_group": None}
    if value.type == "Group":
        group_id = value.id if value.id is not None else next(iter(value.ids or []), None)
        group = Group.objects.filter(pk=group_id).first() if group_id is not None else None
        if group is None:
            raise unknown("restriction", group_id)
        return {"restriction": Restriction.GROUP, "restriction_group": group}
    if value.type == "User":
        return {"restriction": Restriction.USER, "restriction_group": None}
    raise ValidationError({"restriction": [_("Unknown restriction: %(r)s") % {"r": value.type}]})


def _common(data: dict[str, Any], payload: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("title", "description"):
        if name in data:
            changes[name] = data[name] or ""
    for name in ("active", "position"):
        if data.get(name) is not None:
            changes[name] = data[name]
    if "restriction" in data:
        changes.update(_restriction(payload.restriction))
    return changes


# --- views ------------------------------------------------------------------------------------


def _view_changes(envelope: ViewInEnvelope) -> dict[str, Any]:
    payload = envelope.view
    data = payload.model_dump(exclude_unset=True)
    changes = _common(data, payload)
    if "conditions" in data and payload.conditions is not None:
        changes["conditions"] = payload.conditions
    elif "all" in data or "any" in data:
        changes["conditions"] = {"all": payload.all or [], "any": payload.any or []}
    output = payload.execution if "execution" in data else payload.output
    if output is not None:
        changes["execution"] = output.model_dump(exclude_none=True)
    return changes


def _list_rules(
    request: HttpRequest,
    rows: QuerySet[Any],
    *,
    active: bool | None,
    key: str,
    to_json: Callable[[HttpRequest, Any], dict[str, Any]],
) -> HttpResponse:
    """A page of views or macros (already scoped to what the caller sees), in their order."""
    if active is not None:
        rows = rows.filter(active=active)
    return paginate(
        request,
        rows,
        key=key,
        serialize=lambda page: [to_json(request, row) for row in page],
        ordering=("position", "id"),
    )


@router.get("views", response=ViewList, exclude_unset=True, summary="List views")
def list_views(request: HttpRequest, active: bool | None = None) -> HttpResponse:
    views = access.visible_views(current_user(request))
    return _list_rules(request, views, active=active, key="views", to_json=view_json)


@router.get("views/{int:view_id}", response=ViewEnvelope, summary="Show a view")
def show_view(request: HttpRequest, view_id: int) -> dict:
    return {"view": view_json(request, access.visible_views(current_user(request)).get(pk=view_id))}


@router.post("views", response={201: ViewEnvelope}, summary="Create a view")
def create_view(request: HttpRequest, payload: ViewInEnvelope) -> Status:
    changes = _view_changes(payload)
    changes.setdefault("title", "")
    changes.setdefault("conditions", {})
    view = actions.create_view(actor=current_user(request), **changes)
    return Status(201, {"view": view_json(request, view)})


@router.put("views/{int:view_id}", response=ViewEnvelope, summary="Update a view")
def update_view(request: HttpRequest, view_id: int, payload: ViewInEnvelope) -> dict:
    user = current_user(request)
    view = access.visible_views(user).get(pk=view_id)
    view = actions.update_view(view, actor=user, **_view_changes(payload))
    return {"view": view_json(request, view)}


@router.delete("views/{int:view_id}", response={204: None}, summary="Delete a view")
def delete_view(request: HttpRequest, view_id: int) -> Status:
    user = current_user(request)
    actions.delete_view(access.visible_views(user).get(pk=view_id), actor=user)
    return Status(204, None)


@router.get(
    "views/{int:view_id}/tickets",
    response=TicketList,
    exclude_unset=True,
    summary="List a view's tickets",
)
def view_tickets(request: HttpRequest, view_id: int) -> HttpResponse:
    user = current_user(request)
    view = access.visible_views(user).get(pk=view_id)
    return paginate(
        request,
        actions.view_tickets(view, user=user),
        key="tickets",
        serialize=lambda rows: tickets_json(request, rows),
        ordering=None,  # the view's own order
    )


@router.get("views/{int:view_id}/count", response=ViewCountEnvelope, summary="Count a view")
def view_count(request: HttpRequest, view_id: int) -> dict:
    user = current_user(request)
    view = access.visible_views(user).get(pk=view_id)
    value = actions.view_count(view, user=user)
    return {
        "view_count": {
            "view_id": view.pk,
            "url": api_url(request, f"views/{view.pk}/count"),
            "value": value,
            "pretty": f"~{value}" if value >= 100_000 else str(value),
            "fresh": True,
        }
    }


# --- macros -----------------------------------------------------------------------------------


def _macro_changes(envelope: MacroInEnvelope) -> dict[str, Any]:
    payload = envelope.macro
    data = payload.model_dump(exclude_unset=True)
    changes = _common(data, payload)
    if payload.actions is not None:
        changes["actions"] = payload.actions
    return changes


@router.get("macros", response=MacroList, exclude_unset=True, summary="List macros")
def list_macros(request: HttpRequest, active: bool | None = None) -> HttpResponse:
    macros = access.visible_macros(current_user(request))
    return _list_rules(request, macros, active=active, key="macros", to_json=macro_json)


@router.get("macros/{int:macro_id}", response=MacroEnvelope, summary="Show a macro")
def show_macro(request: HttpRequest, macro_id: int) -> dict:
    macro = access.visible_macros(current_user(request)).get(pk=macro_id)
    return {"macro": macro_json(request, macro)}


@router.post("macros", response={201: MacroEnvelope}, summary="Create a macro")
def create_macro(request: HttpRequest, payload: MacroInEnvelope) -> Status:
    changes = _macro_changes(payload)
    changes.setdefault("title", "")
    changes.setdefault("actions", [])
    macro = actions.create_macro(actor=current_user(request), **changes)
    return Status(201, {"macro": macro_json(request, macro)})


@router.put("macros/{int:macro_id}", response=MacroEnvelope, summary="Update a macro")
def update_macro(request: HttpRequest, macro_id: int, payload: MacroInEnvelope) -> dict:
    user = current_user(request)
    macro = access.visible_macros(user).get(pk=macro_id)
    macro = actions.update_macro(macro, actor=user, **_macro_changes(payload))
    return {"macro": macro_json(request, macro)}


@router.delete("macros/{int:macro_id}", response={204: None}, summary="Delete a macro")
def delete_macro(request: HttpRequest, macro_id: int) -> Status:
    user = current_user(request)
    actions.delete_macro(access.visible_macros(user).get(pk=macro_id), actor=user)
    return Status(204, None)


def _ids(users: list[User] | None) -> list[int]:
    return sorted(u.pk for u in users or [])


def _changes_json(result: MacroResult, base: dict[str, Any]) -> dict[str, Any]:
    """The ticket fields the macro sets, as Zendesk's ticket JSON keys, over ``base``."""
    data = result.data
    given = data.model_fields_set
    out: dict[str, Any] = {}
    for name in ("subject", "status", "priority", "type"):
        if name in given:
            out[name] = getattr(data, name)
    if "assignee" in given:
        out["assignee_id"] = data.assignee.pk if data.assignee else None
    if "group" in given:
        out["group_id"] = data.group.pk if data.group else None
    if "custom_status" in given and data.custom_status is not None:
        out["custom_status_id"] = data.custom_status.pk
    if "tags" in given or data.add_tags or data.remove_tags:
        tags = list(data.tags or []) if "tags" in given else list(base.get("tags", []))
        tags += [t for t in data.add_tags if t not in tags]
        out["tags"] = [t for t in tags if t not in set(data.remove_tags)]
    if "custom_fields" in given and data.custom_fields is not None:
        values = {f["id"]: f["value"] for f in base.get("custom_fields", [])}
        values.update(data.custom_fields)
        out["custom_fields"] = [{"id": k, "value": v} for k, v in values.items()]
        out["fields"] = out["custom_fields"]
    return {**base, **out}


def _comment_json(result: MacroResult) -> dict[str, Any] | None:
    if result.comment is None:
        return None
    return {"body": result.comment.body, "html_body": result.comment.html_body,
            "public": result.comment.public}  # fmt: skip


@router.get(
    "macros/{int:macro_id}/apply",
    response=MacroResultEnvelope,
    summary="What a macro would change (changes nothing)",
)
def apply_macro(request: HttpRequest, macro_id: int) -> dict:
    user = current_user(request)
    macro = access.visible_macros(user).get(pk=macro_id)
    # Without a ticket: only the fields the macro sets.
    result = actions.apply_macro(Ticket(), macro, actor=user)
    return {"result": {"ticket": _changes_json(result, {}), "comment": _comment_json(result)}}


@router.get(
    "tickets/{int:ticket_id}/macros/{int:macro_id}/apply",
    response=MacroResultEnvelope,
    summary="The ticket as a macro would leave it (changes nothing)",
)
def apply_macro_to_ticket(request: HttpRequest, ticket_id: int, macro_id: int) -> dict:
    user = current_user(request)
    ticket = access.access_ticket(user, ticket_id)
    macro = access.visible_macros(user).get(pk=macro_id)
    result = actions.apply_macro(ticket, macro, actor=user)
    return {
        "result": {
            "ticket": _changes_json(result, ticket_json(request, ticket)),
            "comment": _comment_json(result),
        }
    }
