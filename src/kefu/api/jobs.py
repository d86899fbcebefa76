"""Bulk API jobs: a registry of item handlers, run as one idempotent background task per job.

An app registers what one item of a job type does::

    jobs.register("tickets.update_many", update_one)   # (job, index, item) -> result dict

``start(user=..., job_type=..., items=[...])`` stores the job and enqueues ``run_job`` after
commit; the endpoint answers ``{"job_status": ...}`` at once and the client polls
``job_statuses/{id}``. Each item runs in its own transaction: a bad item gets an error result
(Zendesk's ``{"index", "error", "details"}``) and the others still happen.
"""

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest

from kefu.accounts.models import User
from kefu.core import clock
from kefu.core.queueing import enqueue_with_commit

from .errors import record_invalid_details
from .models import JobStatus
from .pagination import api_url

log = logging.getLogger(__name__)

# How long a working job's runner may stay silent before the job counts as abandoned (it
# reports after every item; one item is one ticket or person).
LEASE = dt.timedelta(minutes=5)

Handler = Callable[[JobStatus, int, Any], dict[str, Any]]
_handlers: dict[str, Handler] = {}


def register(job_type: str, handler: Handler) -> None:
    _handlers[job_type] = handler


def start(*, user: User, job_type: str, items: list[Any]) -> JobStatus:
    from .tasks import run_job

    if job_type not in _handlers:
        raise KeyError(job_type)
    job = JobStatus.objects.create(user=user, job_type=job_type, total=len(items), payload=items)
    # A lost enqueue is not lost work: recover_stalled enqueues queued jobs again.
    enqueue_with_commit(run_job, job.pk)
    return job


def _error_result(index: int, exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ValidationError):
        return {"index": index, "success": False, "error": "RecordInvalid",
                "details": record_invalid_details(exc)}  # fmt: skip
    if isinstance(exc, ObjectDoesNotExist):
        return {"index": index, "success": False, "error": "RecordNotFound",
                "details": "Not found"}  # fmt: skip
    if isinstance(exc, PermissionDenied):
        return {"index": index, "success": False, "error": "PermissionDenied",
                "details": str(exc)}  # fmt: skip
    raise exc


def _claim(job_id: int, token: str, now: dt.datetime) -> bool:
    """Take the job for this runner: a queued one, or a working one whose runner has not
    reported for ``LEASE`` (it died: SIGKILL, OOM, a lost machine). A live runner reports
    after every item, so two runners never work one job at the same time."""
    stale = Q(status=JobStatus.State.WORKING, updated_at__lt=now - LEASE)
    return bool(
        JobStatus.objects.filter(Q(status=JobStatus.State.QUEUED) | stale, pk=job_id).update(
            status=JobStatus.State.WORKING, claim=token, updated_at=now
        )
    )


def run(job_id: int) -> None:
    """Work a job's remaining items (idempotent: finished items are not redone).

    The runner holds a claim: each item's result is saved only while the claim is still its
    own, so a runner that lost the job (another took it over after a stall) stops instead of
    doing items twice. An unexpected error (a bug, not a bad item) ends the job as ``failed``
    with the items done so far and is logged; it never leaves the job ``working`` forever."""
    token = secrets.token_hex(8)
    if not _claim(job_id, token, clock.now()):
        return
    job = JobStatus.objects.select_related("user").get(pk=job_id)
    handler = _handlers[job.job_type]
    results = list(job.results)
    mine = JobStatus.objects.filter(pk=job.pk, claim=token)
    for index in range(len(results), len(job.payload)):
        try:
            with transaction.atomic():
                result = handler(job, index, job.payload[index])
                results.append(result)
                # In the item's transaction: the item and its result land together, or not.
                if not mine.update(results=results, progress=len(results), updated_at=clock.now()):
                    raise _LostClaim
        except _LostClaim:
            log.warning("job %s: another runner took it over at item %s", job_id, index)
            return
        except (ValidationError, ObjectDoesNotExist, PermissionDenied) as exc:
            results = [*results[:index], _error_result(index, exc)]
            if not mine.update(results=results, progress=len(results), updated_at=clock.now()):
                return
        except Exception:
            log.exception("job %s (%s) failed at item %s", job_id, job.job_type, index)
            results = results[:index]
            mine.update(
                status=JobStatus.State.FAILED,
                results=results,
                progress=len(results),
                updated_at=clock.now(),
                message=f"Failed at item {index}: an unexpected error (see the server log); "
                f"{len(results)} of {len(job.payload)} items were done",
            )
            return
    failed = sum(1 for r in results if r.get("success") is False)
    mine.update(
        status=JobStatus.State.COMPLETED,
        progress=len(results),
        results=results,
        updated_at=clock.now(),
        message=f"Completed at {len(results) - failed} of {len(results)} items"
        if failed
        else "Completed",
    )


def recover_stalled(*, now: dt.datetime | None = None) -> int:
    """Enqueue again the jobs nobody works on: queued but never started (the enqueue was
    lost) or working with a runner silent for ``LEASE``. Returns how many."""
    from .tasks import run_job

    now = now or clock.now()
    stalled = list(
        JobStatus.objects.filter(
            status__in=[JobStatus.State.QUEUED, JobStatus.State.WORKING],
            updated_at__lt=now - LEASE,
        ).values_list("pk", flat=True)[:1000]
    )
    for job_id in stalled:
        run_job.enqueue(job_id)
    return len(stalled)


class _LostClaim(Exception):
    pass


def job_json(request: HttpRequest, job: JobStatus) -> dict[str, Any]:
    """Zendesk's job status: ids are strings there, so they are here too."""
    done = job.status in (JobStatus.State.COMPLETED, JobStatus.State.FAILED)
    return {
        "id": str(job.pk),
        "url": api_url(request, f"job_statuses/{job.pk}"),
        "job_type": job.job_type,
        "total": job.total,
        "progress": job.progress,
        "status": job.status,
        "message": job.message or None,
        "results": job.results if done or job.results else None,
    }
