"""What every ``/api/v2`` request goes through before and after its endpoint.

- ``.json`` suffixes (and a trailing slash) are dropped before URL resolution, so
  ``tickets/1.json``, ``tickets/1`` and ``tickets/1/`` are the same endpoint.
- The caller is identified once (``auth.caller``), counted against the rate limit, and every
  response carries ``X-Rate-Limit`` and ``X-Rate-Limit-Remaining``; over the limit: 429 with
  an integer ``Retry-After``.
- ``Idempotency-Key`` on POST replays the first response (``idempotency``).
- Errors raised outside ninja (unknown paths, wrong methods, crashes) get JSON bodies too.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import idempotency, ratelimit
from .auth import caller
from .errors import NOT_FOUND, error_response

PREFIX = "/api/v2"
# Served at exactly this path (the committed docs/openapi.json mirrors it).
KEEP_SUFFIX = {f"{PREFIX}/openapi.json"}


def is_api_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _normalize(path: str) -> str:
    if path in KEEP_SUFFIX:
        return path
    if path.endswith(".json"):
        path = path[: -len(".json")]
    if len(path) > len(PREFIX) + 1 and path.endswith("/"):
        path = path.rstrip("/")
    return path


class ApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_path(request.path_info):
            return self.get_response(request)
        request.kefu_api_path = request.path  # type: ignore[attr-defined]  # for links
        normalized = _normalize(request.path_info)
        if normalized != request.path_info:
            request.path = request.path[: len(request.path) - len(request.path_info)] + normalized
            request.path_info = normalized

        who = caller(request)
        identity = f"u{who.user.pk}" if who.user else f"ip{request.META.get('REMOTE_ADDR', '')}"
        verdict = ratelimit.hit(identity)
        response: HttpResponse
        if not verdict.allowed:
            response = error_response(
                429,
                {
                    "error": "TooManyRequests",
                    "description": f"Rate limit exceeded; retry in {verdict.retry_after} s.",
                },
                {"Retry-After": str(verdict.retry_after)},
            )
            return self._headers(response, verdict)

        if "%00" in request.META.get("QUERY_STRING", "").lower():
            response = error_response(
                400, {"error": "InvalidValue", "description": "NUL characters are not allowed."}
            )
            return self._headers(response, verdict)

        state, found = idempotency.lookup(request, identity)
        if state == "replay":
            response = idempotency.replay(found)
            response["X-Idempotency-Lookup"] = "hit"
            return self._headers(response, verdict)
        if state == "mismatch":
            response = error_response(
                422,
                {
                    "error": "IdempotentRequestError",
                    "description": "This Idempotency-Key was used with a different request.",
                },
            )
            return self._headers(response, verdict)
        if state == "busy":
            response = error_response(
                409,
                {
                    "error": "IdempotentRequestInProgress",
                    "description": "A request with this Idempotency-Key is still running.",
                },
            )
            return self._headers(response, verdict)

        try:
            response = self._json_errors(self.get_response(request))
        except BaseException:
            if state == "claimed":
                idempotency.release(found)
            raise
        if state == "claimed":
            idempotency.store(found, response)
            response["X-Idempotency-Lookup"] = "miss"
        return self._headers(response, verdict)

    @staticmethod
    def _headers(response: HttpResponse, verdict: ratelimit.Verdict) -> HttpResponse:
        response["X-Rate-Limit"] = str(verdict.limit)
        response["X-Rate-Limit-Remaining"] = str(verdict.remaining)
        return response

    @staticmethod
    def _json_errors(response: HttpResponse) -> HttpResponse:
        """Django's own 404/405/500 pages become Zendesk-shaped JSON."""
        if response.status_code < 400 or "json" in response.get("Content-Type", ""):
            return response
        if response.status_code == 404:
            return error_response(404, NOT_FOUND)
        if response.status_code == 405:
            new = error_response(
                405, {"error": "MethodNotAllowed", "description": "Method not allowed."}
            )
            if response.has_header("Allow"):
                new["Allow"] = response["Allow"]
            return new
        if response.status_code == 403:
            return error_response(403, {"error": "Forbidden", "description": "Forbidden."})
        if response.status_code == 400:
            return error_response(400, {"error": "BadRequest", "description": "Bad request."})
        if response.status_code == 413:
            return error_response(
                413, {"error": "RequestTooLarge", "description": "The request is too large."}
            )
        return error_response(
            response.status_code,
            {"error": "InternalError", "description": "Something went wrong."},
        )
