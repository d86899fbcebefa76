"""Running a search: permission scopes, record types, sorting, paging and export cursors.

Shared by every backend (see ``kefu.search.backends``). Callers (the API, later the agent UI)
use :func:`search`, :func:`count` and :func:`export`; each takes the searcher and the query
text and raises :class:`~kefu.search.syntax.SearchSyntaxError` for a query that cannot run.
"""

import base64
import binascii
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, F, IntegerField, Model, QuerySet, Value, When
from django.utils.translation import gettext as _

from kefu.accounts.access import visible_groups, visible_users
from kefu.accounts.models import Group, User
from kefu.core import clock
from kefu.crm.access import visible_organizations
from kefu.crm.models import Organization
from kefu.tickets.access import visible_tickets
from kefu.tickets.choices import PRIORITY_ORDER, STATUS_ORDER
from kefu.tickets.models import Ticket

from .backends import SearchContext, get_backend
from .syntax import KEYWORDS, RESULT_TYPES, Property, SearchQuery, SearchSyntaxError, parse

MAX_RESULTS = 1000  # offset paging stops here, as in Zendesk; export has no limit
MAX_PER_PAGE = 100
MAX_EXPORT_PAGE = 1000
SORT_FIELDS = ("created_at", "updated_at", "priority", "status", "ticket_type")

MODELS: dict[str, type[Model]] = {
    "ticket": Ticket,
    "user": User,
    "organization": Organization,
    "group": Group,
}

Prepare = Mapping[str, Callable[[QuerySet], QuerySet]]


class ResultWindowExceeded(ValueError):
    """Offset paging asked for results beyond the first 1,000."""


@dataclass(frozen=True)
class Hit:
    result_type: str
    object: Any


@dataclass(frozen=True)
class SearchPage:
    hits: list[Hit]
    count: int


@dataclass(frozen=True)
class ExportPage:
    hits: list[Hit]
    after_cursor: str | None
    has_more: bool


def scope(result_type: str, user: User) -> QuerySet:
    """What ``user`` may find of ``result_type``: the same scopes every list uses."""
    return {
        "ticket": visible_tickets,
        "user": visible_users,
        "organization": visible_organizations,
        "group": visible_groups,
    }[result_type](user)


def context_for(user: User) -> SearchContext:
    try:
        tz: Any = zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    return SearchContext(user=user, now=clock.now(), tz=tz)


def result_types(query: SearchQuery) -> list[str]:
    """The record types the query can match: those named by ``type:`` (all by default) that
    every keyword in the query applies to (``status:open`` alone finds only tickets)."""
    wanted = [t for t in RESULT_TYPES if not query.types or t in query.types]
    keywords = {term.keyword for term in query.terms if isinstance(term, Property)}
    return [t for t in wanted if all(t in KEYWORDS[k] for k in keywords)]


def _parse(query: str | SearchQuery) -> SearchQuery:
    return parse(query) if isinstance(query, str) else query


def _matching(result_type: str, query: SearchQuery, context: SearchContext) -> QuerySet:
    return get_backend().filter(scope(result_type, context.user), result_type, query, context)


def _sort_key(result_type: str, sort_by: str) -> Any:
    if sort_by in ("created_at", "updated_at"):
        return F(sort_by)
    if result_type != "ticket":
        return Value(None, output_field=IntegerField())
    if sort_by == "ticket_type":
        return F("type")
    order = PRIORITY_ORDER if sort_by == "priority" else STATUS_ORDER
    return Case(
        *(When(**{sort_by: value}, then=Value(rank + 1)) for rank, value in enumerate(order)),
        default=Value(None),
        output_field=IntegerField(),
    )


def _load(hits: list[tuple[str, int]], prepare: Prepare | None) -> list[Hit]:
    """Fetch the objects for (type, id) pairs in one query per type, keeping the order."""
    by_type: dict[str, list[int]] = {}
    for result_type, pk in hits:
        by_type.setdefault(result_type, []).append(pk)
    loaded: dict[tuple[str, int], Model] = {}
    for result_type, pks in by_type.items():
        # The ids come from the searcher's scope; loading them again needs no second check.
        queryset = MODELS[result_type]._default_manager.filter(pk__in=pks)
        if prepare and result_type in prepare:
            queryset = prepare[result_type](queryset)
        loaded.update({(result_type, obj.pk): obj for obj in queryset})
    return [Hit(t, loaded[(t, pk)]) for t, pk in hits if (t, pk) in loaded]


def search(
    *,
    user: User,
    query: str | SearchQuery,
    sort_by: str | None = None,
    sort_order: str | None = None,
    offset: int = 0,
    limit: int = MAX_PER_PAGE,
    prepare: Prepare | None = None,
) -> SearchPage:
    """One page of results, newest change first unless ``sort_by``/``sort_order`` say
    otherwise (``order_by:``/``sort:`` in the query win over them, as in Zendesk).

    Raises ``ResultWindowExceeded`` when ``offset + limit`` goes past the first 1,000
    results. ``prepare`` maps a result type to a function that adds ``select_related``/
    ``prefetch_related`` for the caller's serializer (one query per type, no N+1).
    """
    parsed = _parse(query)
    if offset < 0 or limit < 1:
        raise ResultWindowExceeded(_("Pages start at 1 and hold at least one result."))
    if offset + limit > MAX_RESULTS:
        raise ResultWindowExceeded(
            _("Search shows at most the first %(max)s results; narrow the query or use the export.")
            % {"max": MAX_RESULTS}
        )
    sort_by = parsed.order_by or sort_by or "updated_at"
    if sort_by not in SORT_FIELDS:
        raise SearchSyntaxError(
            _("Results can be sorted by: %(fields)s.") % {"fields": ", ".join(SORT_FIELDS)}
        )
    descending = (parsed.sort or sort_order or "desc").lower() != "asc"
    context = context_for(user)
    total = 0
    rows: list[tuple[Any, int, str]] = []
    for result_type in result_types(parsed):
        matching = _matching(result_type, parsed, context)
        total += matching.count()
        key = _sort_key(result_type, sort_by)
        ordered = matching.annotate(_sort=key).order_by(
            F("_sort").desc(nulls_last=True) if descending else F("_sort").asc(nulls_last=True),
            "-pk" if descending else "pk",
        )
        for sort_value, pk in ordered.values_list("_sort", "pk")[: offset + limit]:
            rows.append((sort_value, pk, result_type))
    present = sorted((r for r in rows if r[0] is not None), key=lambda r: (r[0], r[1]))
    missing = sorted((r for r in rows if r[0] is None), key=lambda r: r[1])
    if descending:
        present.reverse()
        missing.reverse()
    window = [*present, *missing][offset : offset + limit]
    return SearchPage(hits=_load([(t, pk) for _k, pk, t in window], prepare), count=total)


def count(*, user: User, query: str | SearchQuery) -> int:
    """How many records match (all of them, not only the first 1,000)."""
    parsed = _parse(query)
    context = context_for(user)
    return sum(_matching(t, parsed, context).count() for t in result_types(parsed))


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, pk = raw.split(":", 1)
        if prefix != "id":
            raise ValueError(prefix)
        return int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise SearchSyntaxError(_("The cursor is not valid.")) from None


def export(
    *,
    user: User,
    query: str | SearchQuery,
    result_type: str,
    after: str | None = None,
    size: int = MAX_PER_PAGE,
    prepare: Prepare | None = None,
) -> ExportPage:
    """Every match of one record type, in id order, a page at a time (Zendesk's search
    export: no 1,000-result limit, ``filter[type]`` required, no sorting)."""
    parsed = _parse(query)
    if result_type not in RESULT_TYPES:
        raise SearchSyntaxError(
            _("“type” takes one of: %(types)s.") % {"types": ", ".join(RESULT_TYPES)}
        )
    if not 1 <= size <= MAX_EXPORT_PAGE:
        raise SearchSyntaxError(
            _("The page size is between 1 and %(max)s.") % {"max": MAX_EXPORT_PAGE}
        )
    if result_type not in result_types(parsed):
        return ExportPage(hits=[], after_cursor=None, has_more=False)
    matching = _matching(result_type, parsed, context_for(user))
    if after:
        matching = matching.filter(pk__gt=decode_cursor(after))
    pks = list(matching.order_by("pk").values_list("pk", flat=True)[: size + 1])
    has_more = len(pks) > size
    pks = pks[:size]
    hits = _load([(result_type, pk) for pk in pks], prepare)
    return ExportPage(
        hits=hits, after_cursor=encode_cursor(pks[-1]) if pks else None, has_more=has_more
    )
