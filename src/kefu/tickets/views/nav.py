"""Next and previous ticket across a whole view (``j``/``k`` and the header's arrows).

A ticket opened from a view list carries where it came from in its URL: the view, the sort
the agent chose and the ticket's position in that order (``?view=5&sort=updated_at&order=desc
&pos=31``). The neighbour is looked up on the server, so it works across pages and sees
tickets that arrived since the list was drawn. The list moves under the agent: after a
reply the ticket often leaves the view (solved, reassigned), and then the ticket now at its
position is the next one, as Zendesk's "next ticket" does.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.web.decorators import agent_required

from .. import actions
from ..actions.views import SORTABLE
from ..models import View
from .common import sidebar_views

# How far around the remembered position the ticket is looked for (one query of ids).
WINDOW = 50
# Tickets per page of a view list.
PAGE_SIZE = 30


@dataclass(frozen=True)
class ViewPlace:
    """Where a ticket page was opened from: a view, its order, the ticket's position."""

    view_id: int
    sort: str = ""
    order: str = ""
    pos: int = 0

    def query(self, **extra: object) -> str:
        params: dict[str, object] = {"view": self.view_id}
        if self.sort:
            params["sort"] = self.sort
        if self.order:
            params["order"] = self.order
        params["pos"] = self.pos
        params.update(extra)
        return urlencode(params)

    def list_query(self) -> str:
        """The view list's page this position is on, in the same order ("Back to the view")."""
        params: dict[str, object] = {}
        if self.sort:
            params["sort"] = self.sort
        if self.order:
            params["order"] = self.order
        if self.pos >= PAGE_SIZE:
            params["page"] = self.pos // PAGE_SIZE + 1
        return urlencode(params)


def view_order(view: View, params: QueryDict) -> tuple[str, str]:
    """The sort column and direction a view list uses: the request's, else the view's."""
    sort = params.get("sort") or view.execution.get("sort_by") or "updated_at"
    if sort not in SORTABLE:
        sort = "updated_at"
    order = params.get("order") or view.execution.get("sort_order") or "desc"
    if order not in ("asc", "desc"):
        order = "desc"
    return sort, order


def sorted_copy(view: View, sort: str, order: str) -> View:
    """The view with another order; ``view_tickets`` applies its conditions and the scope."""
    execution = {**view.execution, "sort_by": sort, "sort_order": order}
    return View(conditions=view.conditions, execution=execution)


def place_of(request: HttpRequest) -> ViewPlace | None:
    """The ``ViewPlace`` a request carries (query string, or the ticket form's hidden fields)."""
    params = request.GET if "view" in request.GET else request.POST
    raw = params.get("view", "")
    if not raw.isdigit():
        return None
    sort = params.get("sort", "")
    order = params.get("order", "")
    pos = params.get("pos", "")
    return ViewPlace(
        view_id=int(raw),
        sort=sort if sort in SORTABLE else "",
        order=order if order in ("asc", "desc") else "",
        pos=int(pos) if pos.isdigit() else 0,
    )


def find_neighbour(
    view: View, *, user: User, ticket_id: int, pos: int, step: int, sort: str, order: str
) -> tuple[int, int] | None:
    """The ticket ``step`` (+1 / -1) away from ``ticket_id`` in the view, and its position."""
    tickets = actions.view_tickets(sorted_copy(view, sort, order), user=user)
    start = max(0, pos - WINDOW)
    ids = list(tickets.values_list("id", flat=True)[start : pos + WINDOW + 1])
    if ticket_id in ids:
        index = ids.index(ticket_id) + step
    else:
        # The ticket left the view: the one now at its place comes next.
        index = (pos - start) if step > 0 else (pos - start - 1)
    if 0 <= index < len(ids):
        return ids[index], start + index
    return None


@agent_required
def neighbour(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Redirect to the next (``step=1``) or previous (``step=-1``) ticket of the view."""
    user: User = request.user  # type: ignore[assignment]
    place = place_of(request)
    view = None
    if place is not None:
        view = sidebar_views(user).filter(pk=place.view_id).first()
    if place is None or view is None:
        return redirect(reverse("tickets:ticket", args=[ticket_id]))
    step = -1 if request.GET.get("step") == "-1" else 1
    sort, order = view_order(view, request.GET)
    found = find_neighbour(
        view, user=user, ticket_id=ticket_id, pos=place.pos, step=step, sort=sort, order=order
    )
    if found is None and step > 0:
        messages.info(request, _("That was the last ticket in this view."))
        return redirect(f"{reverse('tickets:view', args=[view.pk])}?sort={sort}&order={order}")
    if found is None:
        messages.info(request, _("That was the first ticket in this view."))
        found = (ticket_id, place.pos)
    target, pos = found
    query = ViewPlace(view_id=view.pk, sort=sort, order=order, pos=pos).query()
    return redirect(f"{reverse('tickets:ticket', args=[target])}?{query}")
