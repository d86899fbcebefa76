"""Who may open the agent workspace."""

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse


def portal_url() -> str:
    try:
        return reverse("portal:home")
    except NoReverseMatch:
        return "/portal/"


def agent_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Only signed-in agents and admins. Anonymous people go to the sign-in page (for an
    HTMX request, through ``HX-Redirect`` so the whole page changes); end users go to the
    customer portal."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            if getattr(request, "htmx", False):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = f"{settings.LOGIN_URL}?next={request.path}"
                return response
            return redirect_to_login(request.get_full_path())
        if not user.is_agent:
            return HttpResponseRedirect(portal_url())
        return view(request, *args, **kwargs)

    return wrapper
