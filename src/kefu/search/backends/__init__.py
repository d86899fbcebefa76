"""Search backends: what turns a parsed query into a filter over one kind of record.

The parser (``kefu.search.syntax``) and the service (``kefu.search.service``: scopes, types,
sorting, paging) are shared; a backend decides how text matches. ``DatabaseBackend`` matches
with ``LIKE``/``ILIKE`` substrings (works for Chinese without segmentation). A full-text
backend (SQLite FTS5 / PostgreSQL text search with jieba segmentation) subclasses it,
overrides :meth:`~kefu.search.backends.database.DatabaseBackend.text_q` and
:meth:`~kefu.search.backends.database.DatabaseBackend.field_text_q`, and is chosen with the
``KEFU_SEARCH_BACKEND`` setting (a dotted path).
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .base import SearchBackend, SearchContext

DEFAULT_BACKEND = "kefu.search.backends.database.DatabaseBackend"


@cache
def _backend(path: str) -> SearchBackend:
    return import_string(path)()


def get_backend() -> SearchBackend:
    return _backend(getattr(settings, "KEFU_SEARCH_BACKEND", DEFAULT_BACKEND))


__all__ = ["SearchBackend", "SearchContext", "get_backend"]
