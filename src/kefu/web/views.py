"""The shell's own pages: the language switch, the workspace home and the quick search.

Domain pages live with their app (tickets, crm) and extend ``web/agent_base.html``.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import check_for_language
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from kefu.accounts import actions as accounts
from kefu.tickets.access import visible_views

from .decorators import agent_required
from .search import quick_search


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language`` (cookie + redirect to ``next``), and for a signed-in person
    their saved ``locale`` too, so the choice follows them to other browsers."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if user.is_authenticated and check_for_language(language) and user.locale != language:
        accounts.update_user(user, locale=language)
    return response


@agent_required
def agent_home(request: HttpRequest) -> HttpResponse:
    """The workspace opens on the agent's first view, as Zendesk's does."""
    views = list(
        visible_views(request.user).filter(active=True).order_by("position", "title", "id")  # type: ignore[arg-type]
    )
    if views:
        return redirect("tickets:view", views[0].pk)
    return render(request, "web/agent_home.html", {"view_entries": [], "current_view_id": None})


@agent_required
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    result = quick_search(request.user, query)  # type: ignore[arg-type]
    if result.jump_to is not None:
        return redirect("tickets:ticket", result.jump_to)
    return render(
        request,
        "web/search.html",
        {"search_query": result.query, "result": result, "tickets": result.tickets},
    )
