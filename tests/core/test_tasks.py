import datetime as dt

import pytest
from django.conf import settings
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kefu.core import clock, scheduler
from kefu.core.models import ScheduledJob
from kefu.core.tasks import prune_finished, requeue_stale
from kefu.tickets.tasks import close_solved

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def db_tasks(settings):  # type: ignore[no-untyped-def]
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TASK_TIMEOUT = 1800
    settings.TASK_RESULT_DAYS = 7


def test_a_task_whose_worker_died_is_queued_again_after_the_timeout(db, db_tasks):
    # given two tasks claimed by workers: one 40 minutes ago (its process was killed), one now
    stale = DBTaskResult.objects.get(pk=close_solved.enqueue().id)
    fresh = DBTaskResult.objects.get(pk=close_solved.enqueue().id)
    DBTaskResult.objects.filter(pk=stale.pk).update(
        status=TaskResultStatus.RUNNING, started_at=NOW - dt.timedelta(minutes=40)
    )
    DBTaskResult.objects.filter(pk=fresh.pk).update(
        status=TaskResultStatus.RUNNING, started_at=NOW - dt.timedelta(minutes=1)
    )
    # when
    requeued = requeue_stale(now=NOW)
    # then
    assert requeued == 1
    assert DBTaskResult.objects.get(pk=stale.pk).status == TaskResultStatus.READY
    assert DBTaskResult.objects.get(pk=fresh.pk).status == TaskResultStatus.RUNNING


def test_old_finished_results_are_pruned(db, db_tasks):
    old = DBTaskResult.objects.get(pk=close_solved.enqueue().id)
    new = DBTaskResult.objects.get(pk=close_solved.enqueue().id)
    DBTaskResult.objects.filter(pk=old.pk).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=NOW - dt.timedelta(days=8)
    )
    DBTaskResult.objects.filter(pk=new.pk).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=NOW - dt.timedelta(days=1)
    )
    assert prune_finished(now=NOW) == 1
    assert list(DBTaskResult.objects.values_list("pk", flat=True)) == [new.pk]


def test_each_due_job_is_claimed_once_however_many_schedulers_tick(
    db, db_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = scheduler.tick(now=NOW, worker_id="a")
        second = scheduler.tick(now=NOW, worker_id="b")
    assert "tickets.close_solved_tickets" in first
    assert second == []
    job = ScheduledJob.objects.get(name="tickets.close_solved_tickets")
    assert job.next_run_at == NOW + dt.timedelta(hours=1)
    assert job.last_claimed_by == "a"
    queued = DBTaskResult.objects.filter(task_path="kefu.tickets.tasks.close_solved")
    assert queued.count() == 1
    with clock.frozen_at(NOW):
        later = scheduler.tick(now=NOW + dt.timedelta(hours=1), worker_id="b")
    assert "tickets.close_solved_tickets" in later


@pytest.mark.skipif(
    "sqlite" not in settings.DATABASES["default"]["ENGINE"],
    reason="SQLite only: PostgreSQL's autovacuum gathers statistics itself",
)
def test_sqlite_planner_statistics_are_refreshed(personas):
    from django.db import connection

    from kefu.core.tasks import analyze

    assert analyze() is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'accounts_user'")
        assert cursor.fetchone()[0] >= 1
