"""The API's input for people, and groups and memberships in Zendesk's shape.

(The user serializer, ``UserOut``/``user_json``, is in ``schemas.py``.)
"""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Schema

from kefu.api.formats import timestamp
from kefu.api.pagination import api_url
from kefu.api.schemas import PageFields
from kefu.crm.models import Organization

from .models import Group, GroupMembership
from .schemas import UserOut


class UserIn(Schema):
    name: str | None = None
    email: str | None = None
    role: str | None = None
    phone: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    external_id: str | None = None
    tags: list[str] | str | None = None
    notes: str | None = None
    details: str | None = None
    organization_id: int | None = None
    default_group_id: int | None = None
    verified: bool | None = None
    suspended: bool | None = None


class UserInEnvelope(Schema):
    user: UserIn


class UserList(PageFields):
    users: list[UserOut]


class GroupOut(Schema):
    id: int
    url: str
    name: str
    description: str
    default: bool
    deleted: bool
    is_public: bool
    created_at: str
    updated_at: str


class GroupEnvelope(Schema):
    group: GroupOut


class GroupList(PageFields):
    groups: list[GroupOut]


class GroupIn(Schema):
    name: str | None = None
    description: str | None = None
    default: bool | None = None


class GroupInEnvelope(Schema):
    group: GroupIn


class MembershipOut(Schema):
    id: int
    url: str
    user_id: int
    group_id: int
    default: bool
    created_at: str
    updated_at: str


class MembershipEnvelope(Schema):
    group_membership: MembershipOut


class MembershipList(PageFields):
    group_memberships: list[MembershipOut]


class MembershipIn(Schema):
    user_id: int
    group_id: int
    default: bool = False


class MembershipInEnvelope(Schema):
    group_membership: MembershipIn


def unknown_id(field: str, value: object) -> ValidationError:
    return ValidationError({field: [_("There is no record with id %(id)s.") % {"id": value}]})


def user_changes(data: UserIn) -> dict[str, object]:
    """The fields the client sent, named as the accounts actions take them."""
    changes: dict[str, object] = {}
    for name in data.model_fields_set:
        value = getattr(data, name)
        if name == "organization_id":
            if value is not None:
                organization = Organization.objects.filter(pk=value).first()
                if organization is None:
                    raise unknown_id("organization_id", value)
                changes["organization"] = organization
        elif name == "default_group_id":
            group = None
            if value is not None:
                group = Group.objects.filter(pk=value).first()
                if group is None:
                    raise unknown_id("default_group_id", value)
            changes["default_group"] = group
        elif name in ("tags",):
            changes[name] = value or []
        elif name in ("phone", "locale", "notes", "details"):
            changes[name] = value or ""
        elif name in ("verified", "suspended") and value is None:
            continue
        else:
            changes[name] = value
    return changes


def group_json(request: Any, group: Group) -> dict[str, Any]:
    return {
        "id": group.pk,
        "url": api_url(request, f"groups/{group.pk}"),
        "name": group.name,
        "description": group.description,
        "default": group.default,
        "deleted": False,
        "is_public": group.is_public,
        "created_at": timestamp(group.created_at),
        "updated_at": timestamp(group.updated_at),
    }


def groups_json(request: Any, groups: Iterable[Group]) -> list[dict[str, Any]]:
    return [group_json(request, g) for g in groups]


def membership_json(request: Any, membership: GroupMembership) -> dict[str, Any]:
    return {
        "id": membership.pk,
        "url": api_url(request, f"group_memberships/{membership.pk}"),
        "user_id": membership.user_id,
        "group_id": membership.group_id,
        "default": membership.default,
        "created_at": timestamp(membership.created_at),
        "updated_at": timestamp(membership.updated_at),
    }
