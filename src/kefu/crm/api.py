"""Organization endpoints (Zendesk's ``organizations`` resource): thin over ``crm.actions``."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from kefu.api.auth import current_user
from kefu.api.pagination import paginate

from . import actions
from .access import can_manage_organizations, visible_organizations
from .schemas import (
    OrganizationEnvelope,
    OrganizationInEnvelope,
    OrganizationList,
    organization_changes,
    organization_json,
    organizations_json,
)

router = Router(tags=["Organizations"])


def _check_agent(request: HttpRequest, *, admin: bool = False) -> None:
    if not can_manage_organizations(current_user(request), delete=admin):
        raise PermissionDenied(_("You cannot change organizations."))


def _ids(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


@router.get(
    "organizations", response=OrganizationList, exclude_unset=True, summary="List organizations"
)
def list_organizations(request: HttpRequest) -> HttpResponse:
    viewer = current_user(request)
    return paginate(
        request,
        visible_organizations(viewer),
        key="organizations",
        serialize=lambda rows: organizations_json(request, rows, viewer=viewer),
    )


@router.get(
    "organizations/show_many",
    response=OrganizationList,
    exclude_unset=True,
    summary="Show many organizations (?ids= or ?external_ids=)",
)
def show_many(request: HttpRequest, ids: str = "", external_ids: str = "") -> dict:
    viewer = current_user(request)
    orgs = visible_organizations(viewer)
    if ids:
        wanted = [int(i) for i in _ids(ids) if i.isdigit()]
        orgs = orgs.filter(pk__in=wanted)
    else:
        orgs = orgs.filter(external_id__in=_ids(external_ids))
    rows = list(orgs.order_by("id")[:100])
    return {"organizations": organizations_json(request, rows, viewer=viewer)}


@router.get(
    "organizations/{int:organization_id}",
    response=OrganizationEnvelope,
    summary="Show an organization",
)
def show_organization(request: HttpRequest, organization_id: int) -> dict:
    viewer = current_user(request)
    org = visible_organizations(viewer).get(pk=organization_id)
    return {"organization": organization_json(request, org, viewer=viewer)}


@router.post(
    "organizations", response={201: OrganizationEnvelope}, summary="Create an organization"
)
def create_organization(request: HttpRequest, payload: OrganizationInEnvelope) -> Status:
    _check_agent(request)
    changes = organization_changes(payload.organization)
    name = str(changes.pop("name", "") or "")
    org = actions.create_organization(name=name, **changes)  # type: ignore[arg-type]
    return Status(
        201, {"organization": organization_json(request, org, viewer=current_user(request))}
    )


@router.post(
    "organizations/create_or_update",
    response={200: OrganizationEnvelope, 201: OrganizationEnvelope},
    summary="Create or update an organization (matched by external_id, else name)",
)
def create_or_update_organization(request: HttpRequest, payload: OrganizationInEnvelope) -> Status:
    _check_agent(request)
    org, created = actions.create_or_update_organization(
        changes=organization_changes(payload.organization)
    )
    body = {"organization": organization_json(request, org, viewer=current_user(request))}
    return Status(201 if created else 200, body)


@router.put(
    "organizations/{int:organization_id}",
    response=OrganizationEnvelope,
    summary="Update an organization",
)
def update_organization(
    request: HttpRequest, organization_id: int, payload: OrganizationInEnvelope
) -> dict:
    viewer = current_user(request)
    org = visible_organizations(viewer).get(pk=organization_id)
    _check_agent(request)
    org = actions.update_organization(org, **organization_changes(payload.organization))
    return {"organization": organization_json(request, org, viewer=viewer)}


@router.delete(
    "organizations/{int:organization_id}", response={204: None}, summary="Delete an organization"
)
def delete_organization(request: HttpRequest, organization_id: int) -> Status:
    org = visible_organizations(current_user(request)).get(pk=organization_id)
    _check_agent(request, admin=True)
    actions.delete_organization(org)
    return Status(204, None)
