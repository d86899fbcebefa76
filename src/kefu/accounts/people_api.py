"""People endpoints (Zendesk's ``users``, ``groups`` and ``group_memberships``): thin over
``accounts.actions``; who may do what is ``check_can_change_person`` and the scopes."""

import dataclasses

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from kefu.api.auth import current_user
from kefu.api.errors import ApiError
from kefu.api.pagination import offset_page, paginate
from kefu.crm import actions as crm_actions
from kefu.crm.models import Organization
from kefu.search.api import invalid_search, offset_results
from kefu.search.syntax import SearchSyntaxError, parse
from kefu.tickets.access import visible_tickets
from kefu.tickets.schemas import TicketList, tickets_json

from . import actions
from .access import visible_groups, visible_users
from .models import GroupMembership, User
from .people_schemas import (
    GroupEnvelope,
    GroupInEnvelope,
    GroupList,
    MembershipEnvelope,
    MembershipInEnvelope,
    MembershipList,
    UserInEnvelope,
    UserList,
    group_json,
    groups_json,
    membership_json,
    unknown_id,
    user_changes,
)
from .schemas import UserEnvelope, prefetch_users, user_json, users_json

router = Router(tags=["Users"])
groups_router = Router(tags=["Groups"])


def _users_json(request: HttpRequest, rows: list[User]) -> list[dict]:
    loaded = {u.pk: u for u in prefetch_users(User.objects.filter(pk__in=[r.pk for r in rows]))}
    return users_json(request, [loaded[r.pk] for r in rows if r.pk in loaded])


def _join(user: User, organization: object) -> None:
    """``organization_id`` on a person: make it their default organization."""
    assert isinstance(organization, Organization)
    crm_actions.add_organization_membership(user=user, organization=organization, default=True)


def _csv(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


# --- users ------------------------------------------------------------------------------------


@router.get("users", response=UserList, exclude_unset=True, summary="List users")
def list_users(request: HttpRequest, role: str = "", external_id: str = "") -> HttpResponse:
    """Active people the caller may see; ``role`` (end-user, agent, admin) narrows."""
    users = visible_users(current_user(request)).filter(is_active=True)
    roles = request.GET.getlist("role[]") or ([role] if role else [])
    if roles:
        users = users.filter(role__in=roles)
    if external_id:
        users = users.filter(external_id=external_id)
    return paginate(request, users, key="users", serialize=lambda rows: _users_json(request, rows))


@router.get("users/show_many", response=UserList, exclude_unset=True,
            summary="Show many users (?ids= or ?external_ids=)")  # fmt: skip
def show_many_users(request: HttpRequest, ids: str = "", external_ids: str = "") -> dict:
    users = visible_users(current_user(request))
    if ids:
        users = users.filter(pk__in=[int(i) for i in _csv(ids) if i.isdigit()])
    else:
        users = users.filter(external_id__in=_csv(external_ids))
    return {"users": _users_json(request, list(users.order_by("id")[:100]))}


@router.get("users/search", response=UserList, exclude_unset=True,
            summary="Search users (?query= in search syntax, or ?external_id=)")  # fmt: skip
def search_users(request: HttpRequest, query: str = "", external_id: str = "") -> dict:
    viewer = current_user(request)
    if external_id:
        rows, info = offset_page(request, visible_users(viewer).filter(external_id=external_id))
        return {"users": _users_json(request, rows), **info}
    if not query:
        raise ApiError(400, {"error": "InvalidParameter",
                             "description": "Give query or external_id."})  # fmt: skip
    try:
        parsed = dataclasses.replace(parse(query), types=frozenset({"user"}))
    except SearchSyntaxError as error:
        raise invalid_search(error) from None
    page = offset_results(request, viewer=viewer, query=parsed, key="users")
    page.pop("facets")
    return page


@router.get("users/{int:user_id}", response=UserEnvelope, summary="Show a user")
def show_user(request: HttpRequest, user_id: int) -> dict:
    user = prefetch_users(visible_users(current_user(request))).get(pk=user_id)
    return {"user": user_json(request, user)}


@router.post("users", response={201: UserEnvelope}, summary="Create a user")
def create_user(request: HttpRequest, payload: UserInEnvelope) -> Status:
    actor = current_user(request)
    changes = user_changes(payload.user)
    actions.check_can_change_person(actor, target=None, role=str(changes.get("role") or ""))
    changes.pop("default_group", None)
    changes.pop("details", None)
    changes.pop("suspended", None)
    user = actions.create_user(name=str(changes.pop("name", "") or ""), **changes)  # type: ignore[arg-type]
    fresh = prefetch_users(User.objects.filter(pk=user.pk)).get()
    return Status(201, {"user": user_json(request, fresh)})


@router.post("users/create_or_update", response={200: UserEnvelope, 201: UserEnvelope},
             summary="Create or update a user (matched by external_id, then email)")  # fmt: skip
def create_or_update_user(request: HttpRequest, payload: UserInEnvelope) -> Status:
    actor = current_user(request)
    changes = user_changes(payload.user)
    target = actions.find_user(email=payload.user.email, external_id=payload.user.external_id)
    actions.check_can_change_person(
        actor, target=target, changes=changes, role=str(changes.get("role") or "")
    )
    with transaction.atomic():
        organization = changes.pop("organization", None) if target is not None else None
        if target is not None:
            changes.pop("verified", None)
        else:
            changes.pop("default_group", None)
            changes.pop("details", None)
            changes.pop("suspended", None)
        user, created = actions.create_or_update_user(changes=changes)
        if organization is not None:
            _join(user, organization)
    fresh = prefetch_users(User.objects.filter(pk=user.pk)).get()
    return Status(201 if created else 200, {"user": user_json(request, fresh)})


@router.put("users/{int:user_id}", response=UserEnvelope, summary="Update a user")
def update_user(request: HttpRequest, user_id: int, payload: UserInEnvelope) -> dict:
    actor = current_user(request)
    user = visible_users(actor).get(pk=user_id)
    changes = user_changes(payload.user)
    changes.pop("verified", None)
    actions.check_can_change_person(
        actor, target=user, changes=changes, role=str(changes.get("role") or "")
    )
    with transaction.atomic():
        organization = changes.pop("organization", None)
        actions.update_user(user, **changes)
        if organization is not None:
            _join(user, organization)
    fresh = prefetch_users(User.objects.filter(pk=user.pk)).get()
    return {"user": user_json(request, fresh)}


@router.delete("users/{int:user_id}", response=UserEnvelope, summary="Delete a user (soft)")
def delete_user(request: HttpRequest, user_id: int) -> dict:
    actor = current_user(request)
    user = visible_users(actor).get(pk=user_id)
    actions.delete_user(user, actor=actor)
    fresh = prefetch_users(User.objects.filter(pk=user.pk)).get()
    return {"user": user_json(request, fresh)}


@router.get("users/{int:user_id}/tickets/requested", response=TicketList, exclude_unset=True,
            summary="List the tickets a user requested")  # fmt: skip
def requested_tickets(request: HttpRequest, user_id: int) -> HttpResponse:
    viewer = current_user(request)
    user = visible_users(viewer).get(pk=user_id)
    tickets = visible_tickets(viewer).filter(requester=user)
    return paginate(request, tickets, key="tickets",
                    serialize=lambda rows: tickets_json(request, rows))  # fmt: skip


# --- groups and memberships -------------------------------------------------------------------


def _check_admin(request: HttpRequest) -> None:
    if not current_user(request).is_admin:
        raise PermissionDenied(_("Only admins manage groups."))


@groups_router.get("groups", response=GroupList, exclude_unset=True, summary="List groups")
def list_groups(request: HttpRequest) -> HttpResponse:
    groups = visible_groups(current_user(request))
    return paginate(
        request, groups, key="groups", serialize=lambda rows: groups_json(request, rows)
    )


@groups_router.get("groups/{int:group_id}", response=GroupEnvelope, summary="Show a group")
def show_group(request: HttpRequest, group_id: int) -> dict:
    return {"group": group_json(request, visible_groups(current_user(request)).get(pk=group_id))}


@groups_router.post("groups", response={201: GroupEnvelope}, summary="Create a group")
def create_group(request: HttpRequest, payload: GroupInEnvelope) -> Status:
    _check_admin(request)
    data = payload.group
    group = actions.create_group(
        name=data.name or "", description=data.description or "", default=bool(data.default)
    )
    return Status(201, {"group": group_json(request, group)})


@groups_router.put("groups/{int:group_id}", response=GroupEnvelope, summary="Update a group")
def update_group(request: HttpRequest, group_id: int, payload: GroupInEnvelope) -> dict:
    group = visible_groups(current_user(request)).get(pk=group_id)
    _check_admin(request)
    data = payload.group
    group = actions.update_group(
        group,
        name=data.name if "name" in data.model_fields_set else None,
        description=data.description if "description" in data.model_fields_set else None,
        default=data.default if "default" in data.model_fields_set else None,
    )
    return {"group": group_json(request, group)}


@groups_router.delete("groups/{int:group_id}", response={204: None}, summary="Delete a group")
def delete_group(request: HttpRequest, group_id: int) -> Status:
    group = visible_groups(current_user(request)).get(pk=group_id)
    _check_admin(request)
    actions.delete_group(group)
    return Status(204, None)


@groups_router.get("group_memberships", response=MembershipList, exclude_unset=True,
                   summary="List group memberships")  # fmt: skip
def list_memberships(request: HttpRequest) -> HttpResponse:
    memberships = GroupMembership.objects.filter(group__in=visible_groups(current_user(request)))
    return paginate(request, memberships, key="group_memberships",
                    serialize=lambda rows: [membership_json(request, m) for m in rows])  # fmt: skip


@groups_router.post("group_memberships", response={201: MembershipEnvelope},
                    summary="Add an agent to a group")  # fmt: skip
def create_membership(request: HttpRequest, payload: MembershipInEnvelope) -> Status:
    _check_admin(request)
    data = payload.group_membership
    user = User.objects.filter(pk=data.user_id).first()
    if user is None:
        raise unknown_id("user_id", data.user_id)
    group = visible_groups(current_user(request)).filter(pk=data.group_id).first()
    if group is None:
        raise unknown_id("group_id", data.group_id)
    membership = actions.add_group_membership(user=user, group=group, default=data.default)
    return Status(201, {"group_membership": membership_json(request, membership)})


@groups_router.delete("group_memberships/{int:membership_id}", response={204: None},
                      summary="Remove an agent from a group")  # fmt: skip
def delete_membership(request: HttpRequest, membership_id: int) -> Status:
    _check_admin(request)
    membership = GroupMembership.objects.select_related("user", "group").get(pk=membership_id)
    actions.remove_group_membership(user=membership.user, group=membership.group)
    return Status(204, None)
