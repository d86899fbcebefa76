"""Bulk API jobs: a registry of item handlers, run as one idempotent background task per job.

An app registers what one item of a job type does::

    jobs.register("tickets.update_many", update_one)   # (job, index, item) -> result dict

``start(user=..., job_type=..., items=[...])`` stores the job and enqueues ``run_job`` after
commit; the endpoint answers ``{"job_status": ...}`` at once and the client polls
``job_statuses/{id}``. Each item runs in its own transaction: a bad item gets an error result
(Zendesk's ``{"index", "error", "details"}``) and the others still happen.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest

from kefu.accounts.models import User

from .errors import record_invalid_details
from .models import JobStatus
from .pagination import api_url

Handler = Callable[[JobStatus, int, Any], dict[str, Any]]
_handlers: dict[str, Handler] = {}


def register(job_type: str, handler: Handler) -> None:
    _handlers[job_type] = handler


def start(*, user: User, job_type: str, items: list[Any]) -> JobStatus:
    from .tasks import run_job

    if job_type not in _handlers:
        raise KeyError(job_type)
    job = JobStatus.objects.create(user=user, job_type=job_type, total=len(items), payload=items)
    transaction.on_commit(lambda: run_job.enqueue(job.pk))
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


def run(job_id: int) -> None:
    """Work a job's remaining items (idempotent: finished items are not redone)."""
    claimed = JobStatus.objects.filter(
        pk=job_id, status__in=[JobStatus.State.QUEUED, JobStatus.State.WORKING]
    ).update(status=JobStatus.State.WORKING)
    if not claimed:
        return
    job = JobStatus.objects.select_related("user").get(pk=job_id)
    handler = _handlers[job.job_type]
    results = list(job.results)
    for index in range(len(results), len(job.payload)):
        try:
            with transaction.atomic():
                result = handler(job, index, job.payload[index])
        except (ValidationError, ObjectDoesNotExist, PermissionDenied) as exc:
            result = _error_result(index, exc)
        results.append(result)
        JobStatus.objects.filter(pk=job.pk).update(results=results, progress=len(results))
    failed = sum(1 for r in results if r.get("success") is False)
    JobStatus.objects.filter(pk=job.pk).update(
        status=JobStatus.State.COMPLETED,
        progress=len(results),
        results=results,
        message=f"Completed at {len(results) - failed} of {len(results)} items"
        if failed
        else "Completed",
    )


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
