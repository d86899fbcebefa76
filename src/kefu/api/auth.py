"""Who is calling: HTTP Basic ``email/token:TOKEN``, ``Authorization: Bearer TOKEN``, or the
browser's session cookie (CSRF-checked on unsafe methods, as Django does for forms).

``ApiMiddleware`` resolves the caller once per request (``identify``) so rate limits and
idempotency keys can key on the person; ``api_auth`` is the ninja auth callable every
endpoint uses, reading what the middleware found.
"""

import base64
import binascii
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja.utils import check_csrf

from kefu.accounts.actions import authenticate_token
from kefu.accounts.models import User

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Caller:
    user: User | None
    # "token" (Basic or Bearer), "session", or None (anonymous or bad credentials)
    method: str | None
    # Credentials were sent and did not match: 401 even if a session exists.
    failed: bool = False


def _from_header(header: str) -> User | None:
    scheme, _sep, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return authenticate_token(value)
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _sep, secret = decoded.partition(":")
        email, _sep, kind = username.rpartition("/")
        # Only API tokens: Zendesk has retired password authentication for its API.
        if kind != "token" or not email or not secret:
            return None
        return authenticate_token(secret, email=email)
    return None


def identify(request: HttpRequest) -> Caller:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        user = _from_header(header)
        return Caller(user, "token") if user else Caller(None, None, failed=True)
    session_user = getattr(request, "user", None)
    if session_user is not None and session_user.is_authenticated:
        return Caller(session_user, "session")
    return Caller(None, None)


def caller(request: HttpRequest) -> Caller:
    found = getattr(request, "kefu_caller", None)
    if found is None:
        found = identify(request)
        request.kefu_caller = found  # type: ignore[attr-defined]
    return found


def api_auth(request: HttpRequest) -> User | None:
    """Ninja's auth callable: the calling user, or None (answered with 401)."""
    found = caller(request)
    if found.user is None:
        return None
    if (
        found.method == "session"
        and request.method in UNSAFE_METHODS
        and check_csrf(request) is not None
    ):
        raise PermissionDenied("CSRF verification failed.")
    return found.user


def current_user(request: HttpRequest) -> User:
    """The authenticated caller inside an endpoint (``request.auth``), typed."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user
