"""Cursor and offset pages, shaped like Zendesk's, for every list endpoint.

``paginate(request, queryset, key="tickets", serialize=...)`` picks the mode from the query
string: any of ``page[size]``, ``page[after]``, ``page[before]`` -> cursor pagination
(``meta.has_more/after_cursor/before_cursor``, ``links.next/prev``); otherwise offset
pagination (``page``, ``per_page`` -> ``next_page``, ``previous_page``, ``count``). Links are
absolute URLs built from the request's host, keeping the other query parameters.

Cursors are opaque (base64 JSON of the ordering values of the edge row) and page by keyset,
so deep pages cost the same as the first. The ordering must end in a unique column (``id``)
and its columns must not be NULL.
"""

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse

from .errors import ApiError
from .formats import prebuilt

M = TypeVar("M", bound=Model)

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 100
CURSOR_PARAMS = ("page[size]", "page[after]", "page[before]")


def invalid_page(message: str) -> ApiError:
    return ApiError(400, {"error": "InvalidPaginationParameter", "description": message})


_PLAIN_PATH = re.compile(r"[a-z0-9_/]+")


def api_url(request: HttpRequest, path: str) -> str:
    """Absolute URL of an API resource: ``api_url(request, "tickets/1")`` ->
    ``http://host/api/v2/tickets/1.json`` (Zendesk's ``url`` fields).

    The ``http://host/api/v2/`` part is built once per request (a page of 100 tickets asks
    for 100 URLs); paths other than plain ``name/123`` take Django's full route."""
    if not _PLAIN_PATH.fullmatch(path):
        return request.build_absolute_uri(f"/api/v2/{path}.json")
    base = getattr(request, "_kefu_api_base", None)
    if base is None:
        base = request.build_absolute_uri("/api/v2/")
        request._kefu_api_base = base  # type: ignore[attr-defined]
    return f"{base}{path}.json"


def page_url(request: HttpRequest, **params: str | int | None) -> str:
    """This request's URL (as the client wrote it) with some query parameters replaced."""
    query = request.GET.copy()
    for name, value in params.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = str(value)
    path = getattr(request, "kefu_api_path", request.path)
    encoded = query.urlencode(safe="[]")
    return request.build_absolute_uri(path + (f"?{encoded}" if encoded else ""))


def _int_param(request: HttpRequest, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_page(f"{name} must be an integer.") from None
    if value < low:
        raise invalid_page(f"{name} must be at least {low}.")
    return min(value, high)


def is_cursor_request(request: HttpRequest) -> bool:
    return any(name in request.GET for name in CURSOR_PARAMS)


# --- cursors ----------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_json_value(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid_page("The cursor is not valid.") from None
    if not isinstance(values, list) or len(values) != length:
        raise invalid_page("The cursor is not valid.")
    if any(v is None or isinstance(v, list | dict) for v in values):
        raise invalid_page("The cursor is not valid.")
    return values


def _keyset(ordering: Sequence[str], values: Sequence[Any], *, forward: bool) -> Q:
    """Rows strictly after (forward) or before the row with these ordering values."""
    condition = Q()
    for i, spec in enumerate(ordering):
        field = spec.lstrip("-")
        descending = spec.startswith("-")
        later = descending != forward  # "greater than" moves the wanted way
        step = Q(**{f"{field}__{'gt' if later else 'lt'}": values[i]})
        for prior_spec, prior_value in zip(ordering[:i], values[:i], strict=True):
            step &= Q(**{prior_spec.lstrip("-"): prior_value})
        condition |= step
    return condition


def _reverse(ordering: Sequence[str]) -> list[str]:
    return [s[1:] if s.startswith("-") else f"-{s}" for s in ordering]


def _values(row: Model, ordering: Sequence[str]) -> list[Any]:
    return [getattr(row, spec.lstrip("-")) for spec in ordering]


def cursor_page[M: Model](
    request: HttpRequest,
    queryset: QuerySet[M],
    *,
    ordering: Sequence[str] = ("id",),
    max_size: int = MAX_PAGE_SIZE,
) -> tuple[list[M], dict[str, Any], dict[str, Any]]:
    """Rows of one cursor page, and Zendesk's ``meta`` and ``links``."""
    size = _int_param(request, "page[size]", min(DEFAULT_PAGE_SIZE, max_size), low=1,
                      high=max_size)  # fmt: skip
    after = request.GET.get("page[after]") or None
    before = request.GET.get("page[before]") or None
    if after and before:
        raise invalid_page("Give page[after] or page[before], not both.")
    ordering = list(ordering)
    if before:
        values = decode_cursor(before, len(ordering))
        rows = list(
            queryset.filter(_keyset(ordering, values, forward=False)).order_by(*_reverse(ordering))[
                : size + 1
            ]
        )
        has_more = len(rows) > size
        rows = list(reversed(rows[:size]))
    else:
        filtered = queryset
        if after:
            values = decode_cursor(after, len(ordering))
            filtered = queryset.filter(_keyset(ordering, values, forward=True))
        rows = list(filtered.order_by(*ordering)[: size + 1])
        has_more = len(rows) > size
        rows = rows[:size]
    after_cursor = encode_cursor(_values(rows[-1], ordering)) if rows else None
    before_cursor = encode_cursor(_values(rows[0], ordering)) if rows else None
    more_after = has_more if not before else True
    more_before = has_more if before else bool(after)
    meta = {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor}
    links = {
        "next": page_url(request, **{"page[after]": after_cursor, "page[before]": None})
        if after_cursor and more_after
        else None,
        "prev": page_url(request, **{"page[before]": before_cursor, "page[after]": None})
        if before_cursor and more_before
        else None,
    }
    return rows, meta, links


def position_cursor_page[M: Model](
    request: HttpRequest, queryset: QuerySet[M], *, max_size: int = MAX_PAGE_SIZE
) -> tuple[list[M], dict[str, Any], dict[str, Any]]:
    """Cursor pages over an already ordered queryset; the cursor holds a row position."""
    size = _int_param(request, "page[size]", min(DEFAULT_PAGE_SIZE, max_size), low=1,
                      high=max_size)  # fmt: skip
    after = request.GET.get("page[after]") or None
    before = request.GET.get("page[before]") or None
    if after and before:
        raise invalid_page("Give page[after] or page[before], not both.")
    start = 0
    if after or before:
        [position] = decode_cursor(after or before or "", 1)
        if not isinstance(position, int) or position < 0:
            raise invalid_page("The cursor is not valid.")
        start = position if after else max(0, position - size)
        end = position if before else None
    rows = list(queryset[start : start + size + 1])
    if before:
        rows = rows[: max(0, min(size, (end or 0) - start))]
        has_more = start > 0
    else:
        has_more = len(rows) > size
        rows = rows[:size]
    after_cursor = encode_cursor([start + len(rows)]) if rows else None
    before_cursor = encode_cursor([start]) if rows else None
    meta = {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor}
    more_after = has_more if not before else True
    links = {
        "next": page_url(request, **{"page[after]": after_cursor, "page[before]": None})
        if after_cursor and more_after
        else None,
        "prev": page_url(request, **{"page[before]": before_cursor, "page[after]": None})
        if before_cursor and start > 0
        else None,
    }
    return rows, meta, links


def offset_page[M: Model](
    request: HttpRequest,
    queryset: QuerySet[M],
    *,
    ordering: Sequence[str] | None = ("id",),
    max_size: int = MAX_PAGE_SIZE,
    max_count: int | None = None,
) -> tuple[list[M], dict[str, Any]]:
    """Rows of one offset page, and ``next_page``, ``previous_page`` and ``count``.

    ``max_count`` caps how far one may page (search: 1,000 results)."""
    page = _int_param(request, "page", 1, low=1, high=10**9)
    per_page = _int_param(request, "per_page", min(DEFAULT_PAGE_SIZE, max_size), low=1,
                          high=max_size)  # fmt: skip
    start = (page - 1) * per_page
    count = queryset.count()
    if max_count is not None:
        count = min(count, max_count)
    ordered = queryset.order_by(*ordering) if ordering is not None else queryset
    rows = list(ordered[start : min(start + per_page, count)]) if start < count else []
    info = {
        "next_page": page_url(request, page=page + 1) if start + per_page < count else None,
        "previous_page": page_url(request, page=page - 1) if page > 1 else None,
        "count": count,
    }
    return rows, info


def paginate[M: Model](
    request: HttpRequest,
    queryset: QuerySet[M],
    *,
    key: str,
    serialize: Callable[[list[M]], list[dict[str, Any]]],
    ordering: Sequence[str] | None = ("id",),
    max_size: int = MAX_PAGE_SIZE,
) -> HttpResponse:
    """One page of ``queryset`` in Zendesk's envelope: ``{key: [...], ...page fields}``,
    answered as built (``prebuilt``: no second validation by ninja).

    ``serialize`` turns the page's rows into JSON dicts in one go (so it can prefetch).
    ``ordering=None`` keeps the queryset's own order (a view's sort, annotations); its
    cursors then carry a position instead of keys."""
    if is_cursor_request(request):
        if ordering is None:
            rows, meta, links = position_cursor_page(request, queryset, max_size=max_size)
        else:
            rows, meta, links = cursor_page(request, queryset, ordering=ordering, max_size=max_size)
        return prebuilt({key: serialize(rows), "meta": meta, "links": links})
    rows, info = offset_page(request, queryset, ordering=ordering, max_size=max_size)
    return prebuilt({key: serialize(rows), **info})
