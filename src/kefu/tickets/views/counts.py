"""The sidebar's view counts, cached until a ticket changes.

A count is one ``COUNT(*)`` over the view's conditions: cheap for one view, but the sidebar
shows every view and polls every 30 seconds for every agent with a page open. Each count is
cached under (view, its last change, the agent, the tickets' *stamp*). The stamp is the
newest audit's id: every ticket change (create, update, delete, restore, imports, rules,
other web or worker processes) writes an audit, so a new stamp means new keys and the old
entries are never read again. Reading it is one primary-key lookup (``MAX(id)``), so it
holds however many processes share the database, with or without a shared cache.

What the stamp does not see is bounded by ``COUNT_SECONDS``: views with time conditions
("solved in the last 24 hours") that change with the clock alone, an agent's groups being
changed, and, on PostgreSQL, a transaction that commits after a later one (ids are taken
before commit) — until another change or the timeout.
"""

from collections.abc import Sequence

from django.core.cache import cache
from django.db import connection

from kefu.accounts.models import User

from .. import actions
from ..models import Audit, View

COUNT_SECONDS = 60


def tickets_stamp() -> int:
    """A number that changes whenever any ticket changes (the newest audit's id)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {Audit._meta.db_table}")  # noqa: S608 - model's table
        row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


def _key(view: View, user: User, stamp: int) -> str:
    return f"kefu:viewcount:{view.pk}:{view.updated_at.timestamp()}:{user.pk}:{user.role}:{stamp}"


def view_counts(views: Sequence[View], *, user: User) -> list[int]:
    """The number of tickets in each of ``views`` that ``user`` sees, in the same order."""
    stamp = tickets_stamp()
    keys = [_key(view, user, stamp) for view in views]
    cached = cache.get_many(keys)
    missing = {}
    counts = []
    for view, key in zip(views, keys, strict=True):
        count = cached.get(key)
        if count is None:
            count = actions.view_count(view, user=user)
            missing[key] = count
        counts.append(count)
    if missing:
        cache.set_many(missing, COUNT_SECONDS)
    return counts
