from django.conf import settings
from django.db import models

from kefu.core.ids import ObjectIdModel


class JobStatus(ObjectIdModel):
    """A bulk API request (``tickets/create_many``, ...) running as a background task.

    ``payload`` holds the items as the client sent them; ``results`` grows by one entry per
    item, so a task restarted after a crash continues where it stopped.
    """

    class State(models.TextChoices):
        QUEUED = "queued"
        WORKING = "working"
        COMPLETED = "completed"
        FAILED = "failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    job_type = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    progress = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    payload = models.JSONField(default=list)
    results = models.JSONField(default=list)
    # The runner working the job (a random token); see ``kefu.api.jobs.run``.
    claim = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="job_status_created"),
            models.Index(
                fields=["updated_at"],
                name="job_status_unfinished",
                condition=models.Q(status__in=["queued", "working"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job_type} {self.status} {self.progress}/{self.total}"
