"""Configuration every ticket change reads — triggers, ticket fields, custom statuses, the
email channel's addresses — kept per process and checked with one query per unit of work.

Creating a ticket used to read the same small tables on every call: the ticket fields twice,
the default custom status, a version query for the triggers and two for the email
configuration. Each app now registers the scalar subqueries that fingerprint its tables (row
count, newest ``updated_at``, id range) under a name::

    configcache.register("tickets.fields", lambda: ["SELECT COUNT(*) FROM tickets_ticketfield"])

and keeps what it derives from them with :func:`cached`, which reloads when the fingerprint
moves. All registered fingerprints are read in **one** statement; inside :func:`unit` (one API
request, one ``create_ticket`` with its hooks) that statement runs once however many caches
are consulted. A change made by another process shows up at the next unit; a change made by
this one (the config actions call :func:`changed`) shows up at once, even inside a unit and
even when the fingerprint cannot see it (same ``updated_at``, a rolled-back transaction).
Cached values are shared between threads: treat them as read-only.
"""

import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db import connection

_parts: dict[str, Callable[[], Sequence[str]]] = {}
_generation: dict[str, int] = {}
_lock = threading.Lock()
_cache: dict[str, tuple[tuple[object, ...], Any]] = {}
# Inside unit(): {connection alias: {name: fingerprint}} read once.
_unit: contextvars.ContextVar[dict[str, dict[str, tuple[object, ...]]] | None] = (
    contextvars.ContextVar("kefu_config_unit", default=None)
)


def register(name: str, subqueries: Callable[[], Sequence[str]]) -> None:
    """Fingerprint ``name`` with these scalar subqueries (a function, so table names can be
    looked up once the models are loaded)."""
    _parts[name] = subqueries


def changed(name: str) -> None:
    """This process changed what ``name`` covers: the next read reloads (the actions that
    write the configuration call it)."""
    with _lock:
        _generation[name] = _generation.get(name, 0) + 1
    memo = _unit.get()
    if memo is not None:
        memo.clear()


def _fetch() -> dict[str, tuple[object, ...]]:
    names = sorted(_parts)
    columns: list[tuple[str, int]] = []
    sql: list[str] = []
    for name in names:
        subqueries = list(_parts[name]())
        columns.append((name, len(subqueries)))
        sql.extend(f"({q})" for q in subqueries)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(sql))
        row = cursor.fetchone()
    result: dict[str, tuple[object, ...]] = {}
    start = 0
    for name, count in columns:
        result[name] = tuple(row[start : start + count])
        start += count
    return result


def version(name: str) -> tuple[object, ...]:
    """``name``'s fingerprint now (inside a unit: as read once for the unit)."""
    memo = _unit.get()
    fingerprints = memo.get(connection.alias) if memo is not None else None
    if fingerprints is None or name not in fingerprints:
        fingerprints = _fetch()
        if memo is not None:
            memo[connection.alias] = fingerprints
    return (connection.alias, _generation.get(name, 0), *fingerprints[name])


def cached[T](key: str, names: Sequence[str], load: Callable[[], T]) -> T:
    """``load()``, kept under ``key`` while the fingerprints of ``names`` stay the same."""
    stamp = tuple(version(name) for name in names)
    with _lock:
        entry = _cache.get(key)
        if entry is not None and entry[0] == stamp:
            return entry[1]
    value = load()
    with _lock:
        _cache[key] = (stamp, value)
    return value


@contextlib.contextmanager
def unit() -> Iterator[None]:
    """Read the fingerprints at most once in this block (nested blocks share the outer one)."""
    if _unit.get() is not None:
        yield
        return
    token = _unit.set({})
    try:
        yield
    finally:
        _unit.reset(token)


def in_unit[**P, T](func: Callable[P, T]) -> Callable[P, T]:
    """Run ``func`` inside :func:`unit` (the ticket actions: a change and its hooks)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with unit():
            return func(*args, **kwargs)

    return wrapper


def forget() -> None:
    """Drop this process's cached values (tests that change rows behind the ORM's back)."""
    with _lock:
        _cache.clear()
