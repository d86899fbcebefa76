"""Machinery tables only (no domain models live in core)."""

from django.db import models


class IdSequence(models.Model):
    """SQLite's stand-in for the PostgreSQL sequence behind ``core.ids`` (one row)."""

    value = models.BigIntegerField()

    class Meta:
        db_table = "core_idsequence"

    def __str__(self) -> str:
        return str(self.value)


class ScheduledJob(models.Model):
    """When each periodic job last ran and next runs.

    Any number of schedulers may run: a job is claimed with a conditional update, so each
    due run is enqueued exactly once (Healthchecks' ``sendalerts`` pattern).
    """

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_claimed_by = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name
