"""The agent's ticket page: conversation, composer, macros, properties, customer panel.

GET draws the page. POST either previews a macro (``intent=macro``: nothing is saved, the
form comes back filled with what the macro would do) or submits (``update_ticket`` with only
the properties the agent changed, plus the reply or note and its attachments). A form drawn
before someone else changed the ticket is not applied: the page comes back with what changed
meanwhile and the agent's input, ready to resubmit.
"""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.web.decorators import agent_required

from .. import actions, presence
from ..access import (
    access_ticket,
    can_edit_ticket,
    visible_comments,
    visible_macros,
    visible_tickets,
)
from ..choices import FieldType, Status
from ..forms import (
    PROPERTY_NAMES,
    Choices,
    TicketUpdateForm,
    cf_name,
    changed_properties,
    property_initial,
    ticket_data_kwargs,
)
from ..models import Comment, Macro, Ticket
from .common import add_action_errors
from .history import audits_of, describe
from .nav import place_of
from .thread import thread_items


def load_ticket(user: User, ticket_id: int) -> Ticket:
    try:
        return (
            visible_tickets(user)
            .select_related(
                "requester", "assignee", "group", "organization", "custom_status", "submitter"
            )
            .get(pk=ticket_id)
        )
    except Ticket.DoesNotExist:
        raise Http404 from None


def _initial(ticket: Ticket, choices: Choices, follower_ids: list[int]) -> dict[str, Any]:
    return {
        **property_initial(ticket, choices, follower_ids),
        "updated_at": ticket.updated_at.isoformat(),
        "mode": "public",
    }


def _render(
    request: HttpRequest,
    ticket: Ticket,
    form: TicketUpdateForm,
    choices: Choices,
    *,
    status: int = 200,
    macro_preview: dict[str, Any] | None = None,
    stale_changes: list[Any] | None = None,
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    comments = (
        visible_comments(user, ticket)
        .select_related("author")
        # What the thread shows: the plain body, via_source and metadata (JSON) stay unread.
        .only(
            "id", "public", "via_channel", "created_at", "html_body", "author__name",
            "author__role",
        )
        .order_by("created_at", "id")
    )  # fmt: skip
    other_tickets = (
        visible_tickets(user)
        .filter(requester_id=ticket.requester_id)
        .exclude(pk=ticket.pk)
        .select_related("custom_status")
        .only(
            "id",
            "subject",
            "status",
            "updated_at",
            "custom_status__agent_label",
            "custom_status__translations",
        )
        .order_by("-updated_at")[:5]
    )
    place = place_of(request)
    status_labels = dict(choices.status_choices(ticket))
    current_status = str(form["status"].value() or ticket.custom_status_id)
    context = {
        "ticket": ticket,
        "form": form,
        "choices": choices,
        "thread": thread_items(comments),
        "macros": (
            visible_macros(user).filter(active=True).only("id", "title") if form.can_edit else []
        ),
        "other_tickets": other_tickets,
        **_presence(ticket, user),
        "new_comments": [],
        "since": ticket.updated_at.isoformat(),
        "status_choices": choices.status_choices(ticket),
        "submit_label": status_labels.get(current_status, ticket.custom_status.label_for_agent()),
        "custom_field_names": [cf_name(f) for f in choices.fields],
        "view_id": place.view_id if place else None,
        "place_query": place.query() if place else "",
        "back_query": place.list_query() if place else "",
        "macro_preview": macro_preview,
        "stale_changes": stale_changes,
        "is_closed": ticket.status == Status.CLOSED,
    }
    return render(request, "tickets/ticket.html", context, status=status)


@agent_required
def ticket_page(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    ticket = load_ticket(user, ticket_id)
    choices = Choices()
    follower_ids = list(ticket.followers.values_list("pk", flat=True))
    initial = _initial(ticket, choices, follower_ids)
    can_edit = can_edit_ticket(user, ticket)
    if request.method != "POST":
        form = TicketUpdateForm(initial=initial, ticket=ticket, choices=choices, can_edit=can_edit)
        return _render(request, ticket, form, choices)

    form = TicketUpdateForm(
        request.POST, initial=initial, ticket=ticket, choices=choices, can_edit=can_edit
    )
    if request.POST.get("intent") == "macro":
        return _preview_macro(request, ticket, form, choices)
    if not form.is_valid():
        return _render(request, ticket, form, choices)
    if form.cleaned_data["updated_at"] != ticket.updated_at:
        return _stale(request, ticket, form, choices, initial)
    return _submit(request, ticket, form, choices)


def _submit(
    request: HttpRequest, ticket: Ticket, form: TicketUpdateForm, choices: Choices
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    names = changed_properties(form, PROPERTY_NAMES + form.custom_field_names())
    submit_status = request.POST.get("submit_status", "")
    if submit_status and choices.status_by_id(submit_status) is not None:
        form.cleaned_data["status"] = submit_status
        if submit_status != str(ticket.custom_status_id) and "status" not in names:
            names.append("status")
        elif submit_status == str(ticket.custom_status_id) and "status" in names:
            names.remove("status")
    agents = {str(a.pk): a for a in choices.agents}
    groups = {str(g.pk): g for g in choices.groups}
    data = ticket_data_kwargs(form, names=names, agents=agents, groups=groups)
    body = form.cleaned_data["body"].strip()
    files = request.FILES.getlist("attachments")
    if not data and not body and not files:
        messages.info(request, _("Nothing to save: write a reply or change a property."))
        return _render(request, ticket, form, choices)
    macro = _macro(user, form.cleaned_data.get("macro_id"))
    try:
        with transaction.atomic():
            uploads = [
                actions.create_upload(
                    uploader=user,
                    file_name=f.name or "attachment",
                    content=f,
                    content_type=f.content_type,
                )
                for f in files
            ]
            comment = None
            if body or uploads:
                comment = actions.NewComment(
                    body=body, public=form.cleaned_data["mode"] == "public", attachments=uploads
                )
            actions.update_ticket(
                ticket, actor=user, data=actions.TicketData(**data), comment=comment
            )
            if macro is not None:
                actions.record_macro_use(macro)
    except ValidationError as exc:
        add_action_errors(form, exc)
        if files:
            form.add_error(None, _("Attach the files again: browsers do not keep them."))
        return _render(request, ticket, form, choices, status=400)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return _render(request, ticket, form, choices, status=403)
    messages.success(request, _("Ticket #%(id)s updated.") % {"id": ticket.pk})
    url = reverse("tickets:ticket", args=[ticket.pk])
    place = place_of(request)
    return redirect(f"{url}?{place.query()}" if place else url)


def _macro(user: User, macro_id: int | None) -> Macro | None:
    if not macro_id:
        return None
    return visible_macros(user).filter(active=True, pk=macro_id).first()


def _stale(
    request: HttpRequest,
    ticket: Ticket,
    form: TicketUpdateForm,
    choices: Choices,
    initial: dict[str, Any],
) -> HttpResponse:
    """Someone changed the ticket after this form was drawn: show what, keep the agent's input
    (their changed fields and their comment) on top of the current values, and let them
    submit again."""
    since: dt.datetime = form.cleaned_data["updated_at"]
    changes = describe(list(audits_of(ticket, since=since)))
    names = PROPERTY_NAMES + form.custom_field_names()
    changed = set(form.changed_data)
    data = request.POST.copy()
    fresh = TicketUpdateForm(
        initial=initial, ticket=ticket, choices=choices, can_edit=form.can_edit
    )
    for name in names:
        current = fresh[name].value()
        values = current if isinstance(current, list) else [current]
        values = ["" if v is None else ("on" if v is True else v) for v in values]
        if current is False:
            values = []
        data.setlist(f"initial-{name}", [str(v) for v in values])
        if name not in changed:
            data.setlist(name, [str(v) for v in values])
    data["updated_at"] = ticket.updated_at.isoformat()
    rebound = TicketUpdateForm(
        data, initial=initial, ticket=ticket, choices=choices, can_edit=form.can_edit
    )
    rebound.is_valid()
    if request.FILES:
        rebound.add_error(None, _("Attach the files again: browsers do not keep them."))
    return _render(request, ticket, rebound, choices, status=409, stale_changes=changes)


def _preview_macro(
    request: HttpRequest, ticket: Ticket, form: TicketUpdateForm, choices: Choices
) -> HttpResponse:
    """Fill the form with what the chosen macro would do; nothing is saved until Submit."""
    user: User = request.user  # type: ignore[assignment]
    raw = request.POST.get("macro", "")
    macro = _macro(user, int(raw)) if raw.isdigit() else None
    if macro is None:
        messages.error(request, _("Choose a macro to apply."))
        return _render(request, ticket, form, choices)
    try:
        result = actions.apply_macro(ticket, macro, actor=user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return _render(request, ticket, form, choices)
    data: QueryDict = request.POST.copy()
    previous = {name: form[name].value() for name in PROPERTY_NAMES}
    given = result.data.model_fields_set
    if "status" in given and result.data.status:
        default = next(
            (s for s in choices.statuses if s.status_category == result.data.status and s.default),
            None,
        )
        if default is not None:
            data["status"] = str(default.pk)
    if "custom_status" in given and result.data.custom_status is not None:
        data["status"] = str(result.data.custom_status.pk)
    for name in ("priority", "type"):
        if name in given:
            data[name] = getattr(result.data, name) or ""
    if "assignee" in given:
        data["assignee"] = str(result.data.assignee.pk) if result.data.assignee else ""
    if "group" in given:
        data["group"] = str(result.data.group.pk) if result.data.group else ""
    tags = (data.get("tags") or "").split()
    if "tags" in given:
        tags = list(result.data.tags or [])
    tags = list(dict.fromkeys([*tags, *result.data.add_tags]))
    tags = [t for t in tags if t not in set(result.data.remove_tags)]
    data["tags"] = " ".join(tags)
    fields = {f.pk: f for f in choices.fields}
    for field_id, value in (result.data.custom_fields or {}).items():
        field = fields.get(field_id)
        if field is None:
            continue
        if field.type == FieldType.MULTISELECT:
            data.setlist(cf_name(field), [str(v) for v in value or []])
        elif field.type == FieldType.CHECKBOX:
            data[cf_name(field)] = "on" if value else ""
        else:
            data[cf_name(field)] = "" if value is None else str(value)
    comment_text = ""
    if result.comment is not None:
        comment_text = result.comment.body or strip_tags(result.comment.html_body)
        existing = (data.get("body") or "").rstrip()
        data["body"] = f"{existing}\n\n{comment_text}" if existing else comment_text
        data["mode"] = "public" if result.comment.public else "internal"
    data["macro_id"] = str(macro.pk)
    previewed = TicketUpdateForm(
        data, initial=form.initial, ticket=ticket, choices=choices, can_edit=form.can_edit
    )
    previewed.is_valid()
    changes = []
    for name in PROPERTY_NAMES:
        before, after = previous[name], previewed[name].value()
        if (before or "") != (after or ""):
            changes.append(
                (
                    previewed.fields[name].label,
                    _display(previewed, name, before),
                    _display(previewed, name, after),
                )
            )
    preview = {"macro": macro, "changes": changes, "comment": comment_text}
    return _render(request, ticket, previewed, choices, macro_preview=preview)


def _display(form: TicketUpdateForm, name: str, value: Any) -> str:
    field = form.fields[name]
    options = dict(getattr(field, "choices", []))
    if isinstance(value, list):
        return ", ".join(str(options.get(v, v)) for v in value) or "—"
    if value in (None, ""):
        return "—"
    return str(options.get(value, value))


def _presence(ticket: Ticket, user: User) -> dict[str, Any]:
    viewers = presence.touch(ticket.pk, user)
    return {"viewers": viewers, "viewer_names": ", ".join(v.name for v in viewers)}


@agent_required
def ticket_presence(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Polled by the open ticket page: who else has it open, and comments written by others
    since the page was drawn (``since``), so the agent is warned before sending."""
    user: User = request.user  # type: ignore[assignment]
    try:
        ticket = access_ticket(user, ticket_id)
    except Ticket.DoesNotExist:
        raise Http404 from None
    try:
        since = dt.datetime.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        since = ticket.updated_at
    new_comments = list(
        Comment.objects.filter(ticket=ticket, created_at__gt=since)
        .exclude(author=user)
        .select_related("author")
        .only("id", "public", "created_at", "author__name")
        .order_by("created_at")
    )
    return render(
        request,
        "tickets/partials/presence.html",
        {
            "ticket": ticket,
            **_presence(ticket, user),
            "new_comments": new_comments,
            "since": request.GET.get("since", ticket.updated_at.isoformat()),
        },
    )
