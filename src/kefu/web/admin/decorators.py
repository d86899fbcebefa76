"""Who may open the admin settings: admins. Anonymous people sign in first; agents get 403;
customers get 404 (the settings are not theirs to know about)."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_agent:
            raise Http404
        if not user.is_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
