"""Per-person language and time zone.

Django's ``LocaleMiddleware`` picks the language from the language cookie (set by the
language switch) or the browser's ``Accept-Language``. Once someone is signed in, their saved
``locale`` wins, so the interface follows them from browser to browser; their ``time_zone``
is activated so templates show times where they are.
"""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


def supported_language(code: str | None) -> str | None:
    """The Kefu language for a locale such as ``zh-cn`` or ``en-US``, or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code.lower())
    except LookupError:
        return None


def user_time_zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class UserPreferencesMiddleware:
    """Activate the signed-in person's saved language and time zone (after authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = supported_language(getattr(user, "locale", ""))
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
            tz = user_time_zone(getattr(user, "time_zone", ""))
            if tz is not None:
                timezone.activate(tz)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
