"""The agent's ticket lists: one page per view, the sidebar counts, and bulk updates."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from kefu.accounts.models import User
from kefu.web.decorators import agent_required

from .. import actions
from ..access import visible_tickets
from ..actions.views import DEFAULT_COLUMNS, SORTABLE
from ..forms import BulkUpdateForm, Choices
from ..models import View
from . import counts
from .common import error_text, safe_next, sidebar_views
from .nav import PAGE_SIZE, ViewPlace, sorted_copy, view_order
from .rows import rows as table_rows

COLUMN_LABELS = {
    "id": gettext_lazy("ID"),
    "subject": gettext_lazy("Subject"),
    "created_at": gettext_lazy("Requested"),
    "updated_at": gettext_lazy("Updated"),
    "status": gettext_lazy("Status"),
    "priority": gettext_lazy("Priority"),
    "requester": gettext_lazy("Requester"),
    "assignee": gettext_lazy("Assignee"),
    "group": gettext_lazy("Group"),
    "due_at": gettext_lazy("Due"),
}


def _view_or_404(user: User, view_id: int) -> View:
    view = sidebar_views(user).filter(pk=view_id).first()
    if view is None:
        raise Http404
    return view


@agent_required
def view_list(request: HttpRequest, view_id: int) -> HttpResponse:
    """A view's tickets, sortable by its columns, 30 a page. Serves the table alone to HTMX."""
    user: User = request.user  # type: ignore[assignment]
    views = list(sidebar_views(user))
    view = next((v for v in views if v.pk == view_id), None)
    if view is None:
        raise Http404
    columns = [c for c in (view.execution.get("columns") or DEFAULT_COLUMNS) if c in SORTABLE]
    sort, order = view_order(view, request.GET)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    sorted_view = sorted_copy(view, sort, order)
    start = (page - 1) * PAGE_SIZE
    rows = list(
        actions.view_tickets(sorted_view, user=user)
        .select_related("requester", "assignee", "group", "custom_status")
        .only(
            "id", "subject", "status", "priority", "created_at", "updated_at", "due_at",
            "requester__name", "assignee__name", "group__name",
            "custom_status__agent_label", "custom_status__translations",
            "custom_status__status_category",
        )[start : start + PAGE_SIZE + 1]
    )  # fmt: skip
    has_next = len(rows) > PAGE_SIZE
    context = {
        "view_entries": [(v, None) for v in views],
        "current_view_id": view.pk,
        "current_view": view,
        "tickets": rows[:PAGE_SIZE],
        "rows": table_rows(
            rows[:PAGE_SIZE],
            columns,
            ticket_url=reverse("tickets:ticket", args=[0]).replace("/0/", "/{id}/"),
            place=ViewPlace(view_id=view.pk, sort=sort, order=order, pos=start),
        ),
        "columns": [(c, COLUMN_LABELS[c]) for c in columns],
        "sort": sort,
        "order": order,
        "page": page,
        "has_next": has_next,
        "has_previous": page > 1,
        "bulk_form": BulkUpdateForm(choices=Choices()),
    }
    template = "tickets/partials/ticket_table.html" if request.htmx else "tickets/view_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@agent_required
def view_counts(request: HttpRequest) -> HttpResponse:
    """The sidebar's counts; the sidebar polls this every 30 seconds. Cached until a ticket
    changes (``counts.py``)."""
    user: User = request.user  # type: ignore[assignment]
    views = list(sidebar_views(user))
    entries = list(zip(views, counts.view_counts(views, user=user), strict=True))
    try:
        current = int(request.GET.get("current", ""))
    except ValueError:
        current = None
    return render(
        request,
        "tickets/partials/view_counts.html",
        {"view_entries": entries, "current_view_id": current},
    )


@agent_required
@require_POST
def bulk_update(request: HttpRequest) -> HttpResponse:
    """Apply the same change to each selected ticket through ``update_ticket``; a ticket that
    refuses (closed, not visible, a rule) is reported by number and the others still change."""
    user: User = request.user  # type: ignore[assignment]
    fallback = reverse("web:agent_home")
    choices = Choices()
    form = BulkUpdateForm(request.POST, choices=choices)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for message in errors:
                if field in ("__all__", "ticket_ids"):
                    text = str(message) if field == "__all__" else _("Select at least one ticket.")
                else:
                    text = f"{form.fields[field].label}: {message}"
                messages.error(request, text)
        return redirect(safe_next(request, fallback))
    data = form.cleaned_data
    changes: dict[str, object] = {}
    if data["status"]:
        changes["custom_status"] = choices.status_by_id(data["status"])
    if data["priority"]:
        changes["priority"] = data["priority"]
    if data["group"]:
        changes["group"] = next(g for g in choices.groups if str(g.pk) == data["group"])
    if data["assignee"]:
        changes["assignee"] = (
            None
            if data["assignee"] == BulkUpdateForm.UNASSIGN
            else next(a for a in choices.agents if str(a.pk) == data["assignee"])
        )
    if data["add_tags"]:
        changes["add_tags"] = data["add_tags"].split()
    if data["remove_tags"]:
        changes["remove_tags"] = data["remove_tags"].split()
    ids = list(dict.fromkeys(data["ticket_ids"]))
    tickets = {t.pk: t for t in visible_tickets(user).filter(pk__in=ids)}
    updated, failures = 0, []
    for ticket_id in ids:
        ticket = tickets.get(ticket_id)
        if ticket is None:
            failures.append(_("#%(id)s: not found.") % {"id": ticket_id})
            continue
        try:
            actions.update_ticket(ticket, actor=user, data=actions.TicketData(**changes))
        except (ValidationError, PermissionDenied) as exc:
            failures.append(_("#%(id)s: %(error)s") % {"id": ticket_id, "error": error_text(exc)})
        else:
            updated += 1
    if updated:
        messages.success(
            request,
            ngettext("Updated %(n)s ticket.", "Updated %(n)s tickets.", updated) % {"n": updated},
        )
    for failure in failures:
        messages.error(request, failure)
    return redirect(safe_next(request, fallback))
