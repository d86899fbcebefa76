"""The API's search results: each record in its own resource's shape plus ``result_type``."""

from typing import Any

from django.http import HttpRequest
from ninja import Schema

from kefu.accounts.models import User
from kefu.accounts.people_schemas import groups_json
from kefu.accounts.schemas import prefetch_users, users_json
from kefu.api.schemas import CursorLinks, CursorMeta
from kefu.crm.schemas import organizations_json
from kefu.tickets.schemas import tickets_json

from .service import Hit, Prepare

# What each kind's serializer wants loaded with the page (one query per kind).
PREPARE: Prepare = {"user": prefetch_users}


class SearchResults(Schema):
    results: list[dict[str, Any]]
    facets: None = None
    next_page: str | None = None
    previous_page: str | None = None
    count: int | None = None


class SearchCount(Schema):
    count: int


class SearchExport(Schema):
    results: list[dict[str, Any]]
    facets: None = None
    meta: CursorMeta
    links: CursorLinks


def results_json(request: HttpRequest, hits: list[Hit], *, viewer: User) -> list[dict[str, Any]]:
    """Serialize mixed hits kind by kind (each serializer does its own bulk loading) and put
    them back in the hits' order, each with its ``result_type``."""
    by_type: dict[str, list[Any]] = {}
    for hit in hits:
        by_type.setdefault(hit.result_type, []).append(hit.object)
    serializers = {
        "ticket": lambda rows: tickets_json(request, rows),
        "user": lambda rows: users_json(request, rows),
        "organization": lambda rows: organizations_json(request, rows, viewer=viewer),
        "group": lambda rows: groups_json(request, rows),
    }
    shaped: dict[tuple[str, int], dict[str, Any]] = {}
    for result_type, rows in by_type.items():
        for row, data in zip(rows, serializers[result_type](rows), strict=True):
            shaped[(result_type, row.pk)] = {**data, "result_type": result_type}
    return [shaped[(hit.result_type, hit.object.pk)] for hit in hits]
