"""Search endpoints: ``search``, ``search/count``, ``search/export`` (Zendesk's shapes)."""

from typing import Any

from django.http import HttpRequest
from ninja import Router

from kefu.accounts.models import User
from kefu.api.auth import current_user
from kefu.api.errors import ApiError
from kefu.api.pagination import invalid_page, page_url

from .schemas import PREPARE, SearchCount, SearchExport, SearchResults, results_json
from .service import (
    MAX_PER_PAGE,
    MAX_RESULTS,
    ResultWindowExceeded,
    SearchQuery,
    count,
    export,
    search,
)
from .syntax import SearchSyntaxError

router = Router(tags=["Search"])


def invalid_search(error: Exception) -> ApiError:
    """Zendesk answers a query it cannot run, or a page past 1,000 results, with 422."""
    return ApiError(422, {"error": "invalid", "description": str(error)})


def _int(request: HttpRequest, name: str, default: int, *, high: int) -> int:
    raw = request.GET.get(name) or ""
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise invalid_page(f"{name} must be a positive integer.")
    return min(int(raw), high)


def offset_results(
    request: HttpRequest, *, viewer: User, query: str | SearchQuery, key: str = "results"
) -> dict[str, Any]:
    """One offset page of search results in Zendesk's envelope (``page``, ``per_page`` ≤ 100,
    ``sort_by``, ``sort_order``); also serves ``users/search``."""
    page = _int(request, "page", 1, high=10**6)
    per_page = _int(request, "per_page", MAX_PER_PAGE, high=MAX_PER_PAGE)
    try:
        found = search(
            user=viewer,
            query=query,
            sort_by=request.GET.get("sort_by") or None,
            sort_order=request.GET.get("sort_order") or None,
            offset=(page - 1) * per_page,
            limit=per_page,
            prepare=PREPARE,
        )
    except (SearchSyntaxError, ResultWindowExceeded) as error:
        raise invalid_search(error) from None
    reachable = min(found.count, MAX_RESULTS)
    results = results_json(request, found.hits, viewer=viewer)
    if key != "results":
        for item in results:
            item.pop("result_type", None)
    return {
        key: results,
        "facets": None,
        "next_page": page_url(request, page=page + 1) if page * per_page < reachable else None,
        "previous_page": page_url(request, page=page - 1) if page > 1 else None,
        "count": found.count,
    }


@router.get(
    "search", response=SearchResults, summary="Search tickets, users, organizations, groups"
)
def search_endpoint(request: HttpRequest, query: str = "") -> dict:
    return offset_results(request, viewer=current_user(request), query=query)


@router.get("search/count", response=SearchCount, summary="Count search results")
def search_count(request: HttpRequest, query: str = "") -> dict:
    try:
        return {"count": count(user=current_user(request), query=query)}
    except SearchSyntaxError as error:
        raise invalid_search(error) from None


@router.get("search/export", response=SearchExport,
            summary="Export search results with a cursor (filter[type] required)")  # fmt: skip
def search_export(request: HttpRequest, query: str = "") -> dict:
    viewer = current_user(request)
    result_type = request.GET.get("filter[type]") or ""
    if not result_type:
        raise ApiError(400, {"error": "InvalidParameter",
                             "description": "filter[type] is required: ticket, user, "
                                            "organization or group."})  # fmt: skip
    size = _int(request, "page[size]", MAX_PER_PAGE, high=1000)
    try:
        page = export(
            user=viewer,
            query=query,
            result_type=result_type,
            after=request.GET.get("page[after]") or None,
            size=size,
            prepare=PREPARE,
        )
    except SearchSyntaxError as error:
        raise invalid_search(error) from None
    return {
        "results": results_json(request, page.hits, viewer=viewer),
        "facets": None,
        "meta": {
            "has_more": page.has_more,
            "after_cursor": page.after_cursor,
            "before_cursor": None,
        },
        "links": {
            "next": page_url(request, **{"page[after]": page.after_cursor})
            if page.has_more
            else None,
            "prev": None,
        },
    }
