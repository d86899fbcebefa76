"""The API's user serializer, in Zendesk's shape (users/me now; the users endpoints reuse it).

``users_json(request, users)`` serializes a list with a fixed number of queries
(``prefetch_users``); ``user_json`` one person.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet
from ninja import Schema

from kefu.api.formats import timestamp
from kefu.api.pagination import api_url
from kefu.crm.models import Identity, OrganizationMembership

from .choices import Role
from .models import User

# Zendesk's locale ids for the languages Kefu ships.
LOCALE_IDS = {"en-US": 1, "zh-cn": 10}


class UserOut(Schema):
    id: int
    url: str
    name: str
    email: str | None
    created_at: str
    updated_at: str
    time_zone: str
    iana_time_zone: str
    phone: str | None
    shared_phone_number: bool | None
    photo: dict[str, Any] | None
    locale_id: int
    locale: str
    organization_id: int | None
    role: str
    role_type: int | None
    custom_role_id: int | None
    verified: bool
    external_id: str | None
    tags: list[str]
    alias: str
    active: bool
    shared: bool
    shared_agent: bool
    last_login_at: str | None
    two_factor_auth_enabled: bool | None
    signature: str
    details: str
    notes: str
    moderator: bool
    ticket_restriction: str | None
    only_private_comments: bool
    restricted_agent: bool
    suspended: bool
    default_group_id: int | None
    report_csv: bool
    user_fields: dict[str, Any]


class UserEnvelope(Schema):
    user: UserOut


def prefetch_users(users: QuerySet[User]) -> QuerySet[User]:
    """What ``user_json`` reads, loaded in two extra queries for the whole list."""
    return users.prefetch_related(
        Prefetch(
            "organization_memberships",
            queryset=OrganizationMembership.objects.order_by("-default", "id"),
            to_attr="api_memberships",
        ),
        Prefetch(
            "identities",
            queryset=Identity.objects.filter(type="email", verified=True),
            to_attr="api_verified_emails",
        ),
    )


def _locale(user: User) -> str:
    return "zh-cn" if (user.locale or "").lower().startswith("zh") else "en-US"


def user_json(request: Any, user: User) -> dict[str, Any]:
    memberships = getattr(user, "api_memberships", None)
    if memberships is None:
        memberships = list(user.organization_memberships.order_by("-default", "id"))
    verified_emails = getattr(user, "api_verified_emails", None)
    if verified_emails is None:
        verified_emails = list(user.identities.filter(type="email", verified=True))
    locale = _locale(user)
    return {
        "id": user.pk,
        "url": api_url(request, f"users/{user.pk}"),
        "name": user.name,
        "email": user.email,
        "created_at": timestamp(user.created_at),
        "updated_at": timestamp(user.updated_at),
        "time_zone": user.time_zone,
        "iana_time_zone": user.time_zone,
        "phone": user.phone or None,
        "shared_phone_number": None,
        "photo": None,
        "locale_id": LOCALE_IDS[locale],
        "locale": locale,
        "organization_id": memberships[0].organization_id if memberships else None,
        "role": user.role,
        "role_type": None,
        "custom_role_id": None,
        "verified": bool(verified_emails),
        "external_id": user.external_id,
        "tags": list(user.tags),
        "alias": "",
        "active": user.is_active,
        "shared": False,
        "shared_agent": False,
        "last_login_at": timestamp(user.last_login),
        "two_factor_auth_enabled": None,
        "signature": "",
        "details": user.details,
        "notes": user.notes,
        "moderator": user.role == Role.ADMIN,
        "ticket_restriction": "requested" if user.is_end_user else None,
        "only_private_comments": False,
        "restricted_agent": user.role == Role.AGENT,
        "suspended": user.suspended,
        "default_group_id": user.default_group_id,
        "report_csv": user.is_admin,
        "user_fields": {},
    }


def users_json(request: Any, users: Iterable[User]) -> list[dict[str, Any]]:
    return [user_json(request, user) for user in users]
