"""Periodic jobs: a registry, and a tick that enqueues each due job exactly once.

Apps register jobs in their ``AppConfig.ready()``::

    scheduler.register("tickets.close_solved", every=timedelta(hours=1), task=close_solved)

Every ``kefu run`` / ``kefu worker`` process runs the scheduler loop; claiming a due job is a
conditional UPDATE on ``ScheduledJob.next_run_at``, so however many schedulers tick, each due
run is enqueued once. The task itself does the work in the worker, idempotently.
"""

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, close_old_connections, transaction

from kefu.core import clock
from kefu.core.models import ScheduledJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: dt.timedelta
    task: Any  # a django.tasks Task


_jobs: dict[str, Job] = {}


def register(name: str, *, every: dt.timedelta, task: Any) -> None:
    if name in _jobs and _jobs[name].task is not task:
        raise ValueError(f"scheduled job {name!r} is already registered")
    _jobs[name] = Job(name=name, every=every, task=task)


def registered_jobs() -> list[Job]:
    return sorted(_jobs.values(), key=lambda job: job.name)


def tick(*, now: dt.datetime | None = None, worker_id: str = "") -> list[str]:
    """Enqueue every job that is due; return the names of those this caller claimed."""
    now = now or clock.now()
    worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
    claimed = []
    for job in registered_jobs():
        with contextlib.suppress(IntegrityError):  # another scheduler created it first
            ScheduledJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
        with transaction.atomic():
            won = ScheduledJob.objects.filter(name=job.name, next_run_at__lte=now).update(
                next_run_at=now + job.every, last_run_at=now, last_claimed_by=worker_id
            )
            if won:
                transaction.on_commit(job.task.enqueue)
                claimed.append(job.name)
    return claimed


class SchedulerThread(threading.Thread):
    """Ticks every ``interval`` seconds until stopped."""

    def __init__(self, *, interval: float = 30.0) -> None:
        super().__init__(name="kefu-scheduler", daemon=True)
        self.interval = interval
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            close_old_connections()
            try:
                claimed = tick()
                if claimed:
                    # DEBUG: the 30-second jobs would scroll the sign-in box of `kefu run` away.
                    log.debug("scheduled: %s", ", ".join(claimed))
            except Exception:
                log.exception("scheduler tick failed")
            finally:
                close_old_connections()
            self._stop_event.wait(self.interval)
