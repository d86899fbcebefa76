"""Endpoints of the API machinery itself: job statuses of bulk requests."""

from django.http import HttpRequest
from ninja import Router, Schema

from .auth import current_user
from .jobs import job_json
from .models import JobStatus

router = Router(tags=["Job statuses"])


class JobStatusOut(Schema):
    id: str
    url: str
    job_type: str
    total: int
    progress: int
    status: str
    message: str | None
    results: list[dict] | None


class JobStatusEnvelope(Schema):
    job_status: JobStatusOut


@router.get("job_statuses/{int:job_id}", response=JobStatusEnvelope, summary="Show a job status")
def show_job_status(request: HttpRequest, job_id: int) -> dict:
    user = current_user(request)
    jobs = JobStatus.objects.all() if user.is_admin else JobStatus.objects.filter(user=user)
    return {"job_status": job_json(request, jobs.get(pk=job_id))}
