"""Housekeeping of the task queue itself (django-tasks-db).

Delivery is at-least-once: a task whose process died mid-run (SIGKILL, OOM, power loss) stays
RUNNING in the database. ``requeue_stale_tasks`` puts such tasks back in the queue after
``KEFU_TASK_TIMEOUT`` seconds — every Kefu task is idempotent, so running one twice is safe.
``prune_task_results`` keeps the table small. ``analyze_database`` refreshes SQLite's planner
statistics, which SQLite never gathers by itself (PostgreSQL's autovacuum does).
"""

import datetime as dt

from django.conf import settings
from django.db import connection
from django.tasks import TaskResultStatus, task

from kefu.core import clock


def _db_backend() -> bool:
    return settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


def requeue_stale(*, now: dt.datetime | None = None) -> int:
    if not _db_backend():
        return 0
    from django_tasks_db.models import DBTaskResult

    cutoff = (now or clock.now()) - dt.timedelta(seconds=settings.TASK_TIMEOUT)
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=cutoff
    ).update(status=TaskResultStatus.READY, started_at=None)


def prune_finished(*, now: dt.datetime | None = None) -> int:
    if not _db_backend():
        return 0
    from django_tasks_db.models import DBTaskResult

    cutoff = (now or clock.now()) - dt.timedelta(days=settings.TASK_RESULT_DAYS)
    deleted, _ = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
        finished_at__lt=cutoff,
    ).delete()
    return deleted


@task()
def requeue_stale_tasks() -> int:
    return requeue_stale()


@task()
def prune_task_results() -> int:
    return prune_finished()


def analyze() -> bool:
    """Refresh the query planner's statistics on SQLite. Without them SQLite picks poor
    indexes for list pages (up to 4x slower at 100k tickets, bench/RESULTS.md)."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return True


@task()
def analyze_database() -> bool:
    return analyze()
