"""The API's organization serializer and input, in Zendesk's shape."""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Schema

from kefu.accounts.models import Group, User
from kefu.api.formats import timestamp
from kefu.api.pagination import api_url
from kefu.api.schemas import PageFields

from .models import Organization


class OrganizationOut(Schema):
    id: int
    url: str
    external_id: str | None
    name: str
    created_at: str
    updated_at: str
    domain_names: list[str]
    details: str
    notes: str
    group_id: int | None
    shared_tickets: bool
    shared_comments: bool
    tags: list[str]
    organization_fields: dict[str, Any]


class OrganizationEnvelope(Schema):
    organization: OrganizationOut


class OrganizationList(PageFields):
    organizations: list[OrganizationOut]


class OrganizationIn(Schema):
    name: str | None = None
    external_id: str | None = None
    domain_names: list[str] | str | None = None
    details: str | None = None
    notes: str | None = None
    group_id: int | None = None
    shared_tickets: bool | None = None
    shared_comments: bool | None = None
    tags: list[str] | str | None = None


class OrganizationInEnvelope(Schema):
    organization: OrganizationIn


def organization_json(request: Any, org: Organization, *, viewer: User) -> dict[str, Any]:
    private = viewer.is_agent  # notes and details are for agents, as on the agent's screen
    return {
        "id": org.pk,
        "url": api_url(request, f"organizations/{org.pk}"),
        "external_id": org.external_id,
        "name": org.name,
        "created_at": timestamp(org.created_at),
        "updated_at": timestamp(org.updated_at),
        "domain_names": list(org.domain_names),
        "details": org.details if private else "",
        "notes": org.notes if private else "",
        "group_id": org.group_id,
        "shared_tickets": org.shared_tickets,
        "shared_comments": org.shared_comments,
        "tags": list(org.tags),
        "organization_fields": {},
    }


def organizations_json(
    request: Any, orgs: Iterable[Organization], *, viewer: User
) -> list[dict[str, Any]]:
    return [organization_json(request, org, viewer=viewer) for org in orgs]


def organization_changes(data: OrganizationIn) -> dict[str, object]:
    """The fields the client sent, as ``create_organization``/``update_organization`` take
    them (``group_id`` becomes the group; an unknown id is a 422 naming ``group_id``)."""
    changes: dict[str, object] = {
        name: getattr(data, name)
        for name in data.model_fields_set
        if name not in ("group_id", "external_id")
    }
    if "external_id" in data.model_fields_set:
        changes["external_id"] = data.external_id
    for flag in ("shared_tickets", "shared_comments"):
        if changes.get(flag, False) is None:
            changes.pop(flag)
    for text in ("details", "notes"):
        if text in changes and changes[text] is None:
            changes[text] = ""
    for listed in ("domain_names", "tags"):
        if listed in changes and changes[listed] is None:
            changes[listed] = []
    if "group_id" in data.model_fields_set:
        group = None
        if data.group_id is not None:
            group = Group.objects.filter(pk=data.group_id).first()
            if group is None:
                raise ValidationError(
                    {"group_id": [_("There is no record with id %(id)s.") % {"id": data.group_id}]}
                )
        changes["group"] = group
    return changes
