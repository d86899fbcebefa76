"""The customer portal: help-center home, submit a request, my (and my organization's)
requests, one request with its public conversation, status timeline and reply box.

Every request is fetched through ``kefu.tickets.access`` (someone else's request is a 404)
and changed through the portal actions, which call ``kefu.tickets.actions``."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kefu.accounts.forms import apply_errors
from kefu.accounts.models import AccountSettings, User
from kefu.crm.access import shared_organization_ids
from kefu.tickets.access import access_ticket, visible_tickets
from kefu.tickets.choices import FieldType
from kefu.tickets.models import Attachment, Comment, Ticket, TicketField

from . import actions
from .forms import ReplyForm, RequestForm, portal_fields, uploaded_files
from .timeline import status_timeline

PAGE_SIZE = 25


def _errors_on_form(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        exc = ValidationError(
            {form.field_name_for(key): messages for key, messages in exc.message_dict.items()}
        )
    apply_errors(form, exc)


def home(request: HttpRequest) -> HttpResponse:
    recent: list[Ticket] = []
    if request.user.is_authenticated:
        recent = list(_my_requests(request.user).select_related("custom_status")[:5])
    return render(request, "portal/home.html", {"portal_section": "home", "recent": recent})


def _my_requests(user: User) -> QuerySet[Ticket]:
    return visible_tickets(user).filter(requester=user).order_by("-updated_at", "-id")


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    org_ids = shared_organization_ids(user)
    scope = request.GET.get("scope", "mine")
    if scope == "organization" and org_ids:
        tickets = (
            visible_tickets(user).filter(organization_id__in=org_ids).order_by("-updated_at", "-id")
        )
    else:
        scope = "mine"
        tickets = _my_requests(user)
    status = request.GET.get("status", "")
    if status == "open":
        tickets = tickets.exclude(status__in=["solved", "closed"])
    elif status == "solved":
        tickets = tickets.filter(status__in=["solved", "closed"])
    page = Paginator(tickets.select_related("custom_status", "requester"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "portal/request_list.html",
        {
            "portal_section": "requests",
            "page": page,
            "scope": scope,
            "status": status,
            "shares_organization": bool(org_ids),
            "show_requester": scope == "organization",
        },
    )


@login_required
def new_request(request: HttpRequest) -> HttpResponse:
    fields = portal_fields()
    form = RequestForm(request.POST or None, request.FILES or None, fields=fields)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = actions.submit_request(
                user=request.user,  # type: ignore[arg-type]
                subject=form.cleaned_data["subject"],
                description=form.cleaned_data["description"],
                custom_fields=form.custom_field_values(),
                files=uploaded_files(form.cleaned_data["attachments"]),
            )
        except ValidationError as exc:
            _errors_on_form(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Thank you. Your request #%(id)s is with our team.") % {"id": ticket.pk}
            )
            return redirect("portal:request", ticket_id=ticket.pk)
    return render(
        request,
        "portal/new_request.html",
        {
            "portal_section": "new",
            "form": form,
            "max_attachment_mb": AccountSettings.load().max_attachment_mb,
        },
        status=400 if form.errors else 200,
    )


def _field_values(ticket: Ticket) -> list[tuple[str, str]]:
    """The custom fields customers may see on their request, as (label, shown value)."""
    shown = []
    fields = TicketField.objects.filter(active=True, visible_in_portal=True).prefetch_related(
        "options"
    )
    for field in fields:
        value = ticket.field_value(field.pk)
        if value in (None, "", []):
            continue
        if field.type in (FieldType.DROPDOWN, FieldType.MULTISELECT):
            names: dict[str, str] = {o.value: o.name for o in field.options.all()}
            values = value if isinstance(value, list) else [value]
            text = ", ".join(names.get(str(v), str(v)) for v in values)
        elif field.type == FieldType.CHECKBOX:
            text = _("Yes") if value else _("No")
        else:
            text = str(value)
        shown.append((field.title_in_portal or field.title, text))
    return shown


@login_required
def request_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        ticket = access_ticket(user, ticket_id)
    except Ticket.DoesNotExist:
        raise Http404 from None
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.reply_to_request(
                user=user,
                ticket=ticket,
                body=form.cleaned_data["body"],
                files=uploaded_files(form.cleaned_data["attachments"]),
                mark_solved=form.cleaned_data["mark_solved"] or "solve" in request.POST,
            )
        except ValidationError as exc:
            _errors_on_form(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Your reply was sent."))
            return redirect("portal:request", ticket_id=ticket.pk)
    ticket = (
        Ticket.objects.select_related("custom_status", "requester", "organization")
        .prefetch_related(
            Prefetch(
                "comments",
                queryset=Comment.objects.filter(public=True)
                .select_related("author")
                .prefetch_related(
                    Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
                )
                .order_by("created_at", "id"),
                to_attr="public_comments",
            )
        )
        .get(pk=ticket.pk)
    )
    return render(
        request,
        "portal/request_detail.html",
        {
            "portal_section": "requests",
            "ticket": ticket,
            "comments": ticket.public_comments,
            "timeline": status_timeline(ticket),
            "fields": _field_values(ticket),
            "form": form,
            "can_reply": actions.can_reply(user, ticket),
            "can_mark_solved": actions.can_mark_solved(user, ticket),
        },
        status=400 if form.errors else 200,
    )
