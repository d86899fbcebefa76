"""Zendesk-shaped error bodies and the exception handlers every endpoint shares.

Endpoints raise, they do not build error responses: Django's ``ValidationError`` (the actions
raise dicts keyed by Zendesk field names) becomes 422 ``RecordInvalid`` with ``details``;
``ObjectDoesNotExist``/``Http404`` becomes 404 ``RecordNotFound``; ``PermissionDenied`` 403
``Forbidden``; ninja's input validation (wrong types, missing envelope) 400/422; anything else
500 ``InternalError`` (and a log line) — never an HTML page.
"""

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

logger = logging.getLogger("kefu.api")

UNAUTHENTICATED = {"error": "Couldn't authenticate you"}
NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}


class ApiError(Exception):
    """An error with an exact Zendesk body, for cases the standard exceptions do not cover.

    ``raise ApiError(400, {"error": "InvalidPaginationParameter", "description": "..."})``
    """

    def __init__(self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] = {}):
        super().__init__(body.get("description") or body.get("error"))
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers)


def error_response(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> JsonResponse:
    response = JsonResponse(dict(body), status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _messages(error: ValidationError) -> list[tuple[str, str]]:
    return [(str(e.message % e.params if e.params else e.message), e.code or "InvalidValue")
            for e in error.error_list]  # fmt: skip


def record_invalid_details(error: ValidationError) -> dict[str, list[dict[str, str]]]:
    """``{"field": [{"description": ..., "error": ...}]}`` from a Django ValidationError."""
    details: dict[str, list[dict[str, str]]] = {}
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            name = "base" if field == NON_FIELD_ERRORS else field
            for item in errors:
                for message, code in _messages(item):
                    details.setdefault(name, []).append(
                        {"description": message, "error": _zendesk_code(code)}
                    )
    else:
        for message, code in _messages(error):
            details.setdefault("base", []).append(
                {"description": message, "error": _zendesk_code(code)}
            )
    return details


def _zendesk_code(code: str) -> str:
    """Zendesk's detail codes are CamelCase (``InvalidValue``, ``BlankValue``, ...)."""
    known = {"required": "BlankValue", "blank": "BlankValue", "unique": "DuplicateValue"}
    return known.get(code, code if code[:1].isupper() else "InvalidValue")


def record_invalid(details: Mapping[str, Iterable[Mapping[str, str]]]) -> dict[str, Any]:
    return {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {k: list(v) for k, v in details.items()},
    }


def record_invalid_body(error: ValidationError) -> dict[str, Any]:
    return record_invalid(record_invalid_details(error))


def forbidden_body(message: str = "") -> dict[str, str]:
    return {
        "error": "Forbidden",
        "description": message or "You do not have access to this resource.",
    }


def _input_error_field(loc: Iterable[Any]) -> str:
    """``["body", "payload", "ticket", "priority"]`` -> ``"ticket.priority"``."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in {"payload", "data", "filters", "params"}:
        parts = parts[1:]
    return ".".join(parts) or "base"


def input_error_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    details: dict[str, list[dict[str, str]]] = {}
    for error in errors:
        field = _input_error_field(error.get("loc", ()))
        details.setdefault(field, []).append(
            {"description": str(error.get("msg", "Invalid value")), "error": "InvalidValue"}
        )
    return record_invalid(details)


def install_handlers(api: NinjaAPI) -> None:
    """Register the Zendesk-shaped exception handlers on the API."""

    def respond(request: HttpRequest, status: int, body: Mapping[str, Any]) -> HttpResponse:
        return error_response(status, body)

    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 422, record_invalid_body(exc))

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 404, NOT_FOUND)

    def on_forbidden(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 403, forbidden_body(str(exc)))

    def on_input(request: HttpRequest, exc: Any) -> HttpResponse:
        # Wrong types in the body: 422 like Zendesk's RecordInvalid; in the query string or
        # path: 400 (Zendesk answers bad query parameters with 400).
        in_body = any(str(next(iter(e.get("loc", ())), "")) == "body" for e in exc.errors)
        return respond(request, 422 if in_body else 400, input_error_body(exc.errors))

    def on_auth(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 401, UNAUTHENTICATED)

    def on_http(request: HttpRequest, exc: Any) -> HttpResponse:
        if exc.status_code == 400:
            body = {"error": "InvalidJSON", "description": str(exc)}
        elif exc.status_code == 404:
            body = NOT_FOUND
        else:
            body = {"error": "Error", "description": str(exc)}
        return respond(request, exc.status_code, body)

    def on_data_error(request: HttpRequest, exc: Any) -> HttpResponse:
        # A value the database refuses (too long for its column, a number out of range):
        # the client's input, so 422, not a crash.
        return respond(
            request,
            422,
            record_invalid(
                {"base": [{"description": "A value is too long or out of range.",
                           "error": "InvalidValue"}]}
            ),
        )  # fmt: skip

    def on_api_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(exc.status, exc.body, exc.headers)

    def on_other(request: HttpRequest, exc: Any) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        return respond(
            request, 500, {"error": "InternalError", "description": "Something went wrong."}
        )

    api.add_exception_handler(Exception, on_other)
    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(ObjectDoesNotExist, on_not_found)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(PermissionDenied, on_forbidden)
    api.add_exception_handler(NinjaValidationError, on_input)
    api.add_exception_handler(AuthenticationError, on_auth)
    api.add_exception_handler(HttpError, on_http)
    api.add_exception_handler(ApiError, on_api_error)
    api.add_exception_handler(DataError, on_data_error)
    api.add_exception_handler(OverflowError, on_data_error)
