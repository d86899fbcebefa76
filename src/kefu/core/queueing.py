"""Enqueueing a task with the rows it is about (the email channel, bulk API jobs, webhooks).

With the default task backend (``django_tasks_db``, the task rows in Kefu's own database) a
task enqueued *inside* the caller's transaction is committed together with the message it is
for: one commit per received or sent message instead of two (on SQLite each commit is a write
transaction of its own, with its own fsync), and no window in which the message is committed
but its task is not — the sweepers (``email.process_pending``, ``email.retry_outbound``) stay
for tasks whose worker died. With any other backend (Redis, the test settings' immediate one)
the task is enqueued after the commit, as before, so it can never run before its row is visible.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, router, transaction

log = logging.getLogger(__name__)


def queue_shares_the_database(task: Any, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether ``task``'s backend keeps its tasks in the ``using`` database."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the backend is a dependency
        return False
    return isinstance(task.get_backend(), DatabaseBackend) and (
        router.db_for_write(DBTaskResult) == using
    )


def enqueue_with_commit(
    task: Any, *args: Any, on_error: Callable[[Exception], None] | None = None
) -> None:
    """Enqueue ``task(*args)`` so that it exists exactly when the caller's transaction commits.

    Inside a transaction with the database backend: now, in that transaction (an error rolls
    the caller back: nothing half-done). Otherwise after the commit; an error then is logged
    (``on_error`` is told) and the sweepers pick the work up.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block and queue_shares_the_database(task, connection.alias):
        task.enqueue(*args)
        return
    transaction.on_commit(functools.partial(_enqueue_quietly, task, args, on_error))


def _enqueue_quietly(
    task: Any, args: tuple[Any, ...], on_error: Callable[[Exception], None] | None
) -> None:
    try:
        task.enqueue(*args)
    except Exception as exc:  # the work is committed; a sweeper takes it later
        log.exception("could not enqueue %s%r", getattr(task, "name", task), args)
        if on_error is not None:
            on_error(exc)
