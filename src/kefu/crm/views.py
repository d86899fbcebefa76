"""Customer and organization pages in the agent workspace: profile, identities, tickets, edit."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kefu.accounts import actions as accounts
from kefu.accounts.access import can_edit_user, visible_users
from kefu.accounts.models import Group, User
from kefu.tickets.access import visible_tickets
from kefu.tickets.models import Ticket
from kefu.web.decorators import agent_required

from . import actions
from .access import can_manage_organizations, visible_identities, visible_organizations
from .forms import OrganizationForm, UserForm
from .models import Organization

TICKETS_SHOWN = 25


def _person(actor: User, user_id: int) -> User:
    person = visible_users(actor).filter(pk=user_id).first()
    if person is None:
        raise Http404
    return person


def _organization(actor: User, organization_id: int) -> Organization:
    organization = (
        visible_organizations(actor).select_related("group").filter(pk=organization_id).first()
    )
    if organization is None:
        raise Http404
    return organization


def _tickets(actor: User, **filters: object) -> QuerySet[Ticket]:
    return (
        visible_tickets(actor)
        .filter(**filters)
        .select_related("custom_status", "assignee", "requester")
        .order_by("-updated_at")[:TICKETS_SHOWN]
    )


def _show_errors(form: UserForm | OrganizationForm, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, errors in exc.message_dict.items():
        target = key if key in form.fields else None
        for message in errors:
            form.add_error(target, message)


@agent_required
def user_page(request: HttpRequest, user_id: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    person = _person(actor, user_id)
    if request.method == "POST":
        if not can_edit_user(actor, person):
            raise PermissionDenied
        form = UserForm(request.POST)
        if form.is_valid():
            try:
                accounts.update_user(person, **form.cleaned_data)
            except ValidationError as exc:
                _show_errors(form, exc)
            else:
                messages.success(request, _("Profile saved."))
                return redirect("crm:user", person.pk)
        person.refresh_from_db()
        status = 400
    else:
        form = UserForm(
            initial={
                "name": person.name, "email": person.email or "", "phone": person.phone,
                "locale": person.locale, "time_zone": person.time_zone,
                "tags": " ".join(person.tags), "notes": person.notes, "details": person.details,
            }
        )  # fmt: skip
        status = 200
    context = {
        "person": person,
        "form": form,
        "can_edit": can_edit_user(actor, person),
        "editing": can_edit_user(actor, person)
        and (request.method == "POST" or request.GET.get("edit") == "1"),
        "identities": visible_identities(actor).filter(user=person).order_by("type", "-primary"),
        "organizations": visible_organizations(actor).filter(memberships__user=person),
        "tickets": _tickets(actor, requester=person),
    }
    return render(request, "crm/user.html", context, status=status)


@agent_required
def organization_page(request: HttpRequest, organization_id: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    organization = _organization(actor, organization_id)
    can_edit = can_manage_organizations(actor)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = OrganizationForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["group"] = (
                Group.objects.filter(pk=data["group"]).first() if data["group"] else None
            )
            try:
                actions.update_organization(organization, **data)
            except ValidationError as exc:
                _show_errors(form, exc)
            else:
                messages.success(request, _("Organization saved."))
                return redirect("crm:organization", organization.pk)
        organization.refresh_from_db()
        status = 400
    else:
        form = OrganizationForm(
            initial={
                "name": organization.name, "domain_names": " ".join(organization.domain_names),
                "group": str(organization.group_id or ""), "tags": " ".join(organization.tags),
                "shared_tickets": organization.shared_tickets,
                "shared_comments": organization.shared_comments,
                "notes": organization.notes, "details": organization.details,
            }
        )  # fmt: skip
        status = 200
    context = {
        "organization": organization,
        "form": form,
        "can_edit": can_edit,
        "editing": can_edit and (request.method == "POST" or request.GET.get("edit") == "1"),
        "members": organization.members.order_by("name")[:50],
        "tickets": _tickets(actor, organization=organization),
    }
    return render(request, "crm/organization.html", context, status=status)
