"""The bulk-job runner: one runner per job, takeover of abandoned jobs, and no job left
``working`` forever by an unexpected error."""

import datetime as dt

import pytest

from kefu.accounts.models import Group
from kefu.api import jobs
from kefu.api.models import JobStatus
from kefu.core import clock

done: list[int] = []


def _make_tag(job, index, item):  # type: ignore[no-untyped-def]
    if item == "boom":
        raise RuntimeError("a bug")
    if item == "takeover":  # another runner takes the job over while this item runs
        JobStatus.objects.filter(pk=job.pk).update(claim="someone-else")
    Group.objects.create(name=f"job {job.pk} item {index}")
    done.append(index)
    return {"index": index, "success": True}


@pytest.fixture(autouse=True)
def handler():  # type: ignore[no-untyped-def]
    jobs.register("test.tags", _make_tag)
    done.clear()
    yield
    jobs._handlers.pop("test.tags", None)


def _job(personas, items, **fields) -> JobStatus:  # type: ignore[no-untyped-def]
    job = JobStatus.objects.create(user=personas.admin, job_type="test.tags", total=len(items),
                                   payload=items)  # fmt: skip
    if fields:
        JobStatus.objects.filter(pk=job.pk).update(**fields)
    return job


def test_an_unexpected_error_fails_the_job_and_keeps_the_items_done(personas):
    job = _job(personas, ["a", "b", "boom", "c"])
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.progress == 2
    assert "Failed at item 2" in job.message
    assert [r["index"] for r in job.results] == [0, 1]
    assert done == [0, 1]
    assert Group.objects.filter(name__startswith=f"job {job.pk} ").count() == 2


def test_a_job_another_runner_is_working_on_is_left_alone(personas):
    job = _job(personas, ["a", "b"], status="working", claim="other", updated_at=clock.now())
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == "working" and job.progress == 0 and not done


def test_an_abandoned_job_is_taken_over_and_finished_from_where_it_stopped(personas):
    stale = clock.now() - jobs.LEASE - dt.timedelta(seconds=1)
    job = _job(personas, ["a", "b", "c"], status="working", claim="dead", updated_at=stale,
               progress=1, results=[{"index": 0, "success": True}])  # fmt: skip
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == "completed" and job.progress == 3
    assert done == [1, 2]  # item 0 was done by the dead runner and is not redone


def test_a_runner_that_lost_its_claim_stops_and_its_item_is_undone(personas):
    job = _job(personas, ["a", "takeover", "c"])
    jobs.run(job.pk)
    job.refresh_from_db()
    # (The takeover was rolled back with the item here; in life it is another runner's commit.)
    assert job.progress == 1 and job.status == "working"
    assert done == [0, 1]  # item 1 ran, but its group was rolled back with its result
    names = Group.objects.filter(name__startswith=f"job {job.pk} ").values_list("name", flat=True)
    assert list(names) == [f"job {job.pk} item 0"]


def test_stalled_jobs_are_enqueued_again(personas, django_capture_on_commit_callbacks):
    stale = clock.now() - jobs.LEASE - dt.timedelta(seconds=1)
    queued = _job(personas, ["a"], updated_at=stale)
    working = _job(personas, ["b"], status="working", updated_at=stale)
    busy = _job(personas, ["c"], status="working", updated_at=clock.now())
    assert jobs.recover_stalled() == 2  # the test settings run tasks immediately
    for job, status in ((queued, "completed"), (working, "completed"), (busy, "working")):
        job.refresh_from_db()
        assert job.status == status
