"""A new ticket on behalf of a customer: find the requester (or create them), then open it."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kefu.accounts.access import visible_users
from kefu.accounts.models import User
from kefu.crm import actions as crm
from kefu.crm.choices import IdentityType
from kefu.web.decorators import agent_required

from .. import actions
from ..forms import PROPERTY_NAMES, Choices, NewTicketForm, ticket_data_kwargs
from .common import add_action_errors, sidebar_views

MAX_SUGGESTIONS = 8


@agent_required
def new_ticket(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not user.is_full_agent:
        raise PermissionDenied(_("Light agents cannot open tickets."))
    choices = Choices()
    initial = {"mode": "public", "group": str(user.default_group_id or "")}
    if request.method != "POST":
        if email := request.GET.get("requester", ""):
            initial["requester_email"] = email
        form = NewTicketForm(initial=initial, choices=choices)
        return _render(request, form)
    form = NewTicketForm(request.POST, initial=initial, choices=choices)
    if not form.is_valid():
        return _render(request, form, status=400)
    data = form.cleaned_data
    names = [
        n
        for n in [*PROPERTY_NAMES, *form.custom_field_names()]
        if data.get(n) not in (None, "", [], False)
    ]
    kwargs = ticket_data_kwargs(
        form,
        names=names,
        agents={str(a.pk): a for a in choices.agents},
        groups={str(g.pk): g for g in choices.groups},
    )
    files = request.FILES.getlist("attachments")
    try:
        with transaction.atomic():
            requester = crm.find_user_by_identity(
                type=IdentityType.EMAIL, value=data["requester_email"]
            )
            if requester is None:
                requester = crm.find_or_create_end_user(
                    email=data["requester_email"], name=data["requester_name"]
                )
            uploads = [
                actions.create_upload(
                    uploader=user,
                    file_name=f.name or "attachment",
                    content=f,
                    content_type=f.content_type,
                )
                for f in files
            ]
            ticket = actions.create_ticket(
                actor=user,
                data=actions.TicketData(subject=data["subject"], requester=requester, **kwargs),
                comment=actions.NewComment(
                    body=data["body"],
                    public=data["mode"] == "public",
                    attachments=uploads,
                ),
            )
    except ValidationError as exc:
        add_action_errors(form, _requester_errors(exc))
        if files:
            form.add_error(None, _("Attach the files again: browsers do not keep them."))
        return _render(request, form, status=400)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return _render(request, form, status=403)
    messages.success(request, _("Ticket #%(id)s created.") % {"id": ticket.pk})
    return redirect("tickets:ticket", ticket.pk)


def _requester_errors(exc: ValidationError) -> ValidationError:
    """create_user names ``email``/``name``; on this form they are the requester's."""
    if not hasattr(exc, "error_dict"):
        return exc
    renamed = {"email": "requester_email", "name": "requester_name"}
    return ValidationError(
        {renamed.get(key, key): messages for key, messages in exc.message_dict.items()}
    )


def _render(request: HttpRequest, form: NewTicketForm, *, status: int = 200) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    views = list(sidebar_views(user))
    return render(
        request,
        "tickets/new_ticket.html",
        {"form": form, "view_entries": [(v, None) for v in views], "current_view_id": None},
        status=status,
    )


@agent_required
def requester_suggestions(request: HttpRequest) -> HttpResponse:
    """People whose name or email matches what the agent typed (HTMX, on the new-ticket form)."""
    query = request.GET.get("requester_email", "").strip()[:100]
    people: list[User] = []
    if len(query) >= 2 or (query and not query.isascii()):
        people = list(
            visible_users(request.user)  # type: ignore[arg-type]
            .filter(Q(email__icontains=query) | Q(name__icontains=query))
            .filter(is_active=True, suspended=False)
            .exclude(email__isnull=True)
            .only("id", "name", "email")
            .order_by("name")[:MAX_SUGGESTIONS]
        )
    return render(
        request, "tickets/partials/requester_suggestions.html", {"people": people, "q": query}
    )
