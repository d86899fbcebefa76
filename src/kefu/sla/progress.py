"""Progress of the background re-evaluation (``SlaReevaluation`` rows), for the admin page.

A run after a policy change is split into chunks (``SlaReevaluationChunk``, one task each,
``tasks.reevaluate_chunk``) that several worker processes run at once; each records its own
progress, and the run's is their sum. The last chunk to finish marks the run finished.
"""

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Sum

from kefu.core import clock

from .models import SlaReevaluation, SlaReevaluationChunk


def latest_run() -> SlaReevaluation | None:
    run = SlaReevaluation.objects.order_by("-started_at", "-id").first()
    if run is not None and run.finished_at is None:
        done = run.chunks.aggregate(done=Sum("done"))["done"]
        if done is not None:
            run.done = done
    return run


def split(ids: Sequence[int], parts: int) -> list[tuple[int, int, int]]:
    """``ids`` (ascending) in at most ``parts`` ranges of nearly equal counts:
    ``(first id, last id, count)`` each; every id in exactly one range."""
    parts = max(1, min(parts, len(ids)))
    result = []
    for n in range(parts):
        start, end = len(ids) * n // parts, len(ids) * (n + 1) // parts
        if start < end:
            result.append((ids[start], ids[end - 1], end - start))
    return result


def start_run(
    reason: str, *, ids: Sequence[int], parts: int, policy_id: int | None = None
) -> list[SlaReevaluationChunk]:
    """A new run over ``ids`` (ascending) in ``parts`` chunks; returns the chunks (none when
    there is nothing to do: the run is finished at once)."""
    now = clock.now()
    run = SlaReevaluation.objects.create(
        reason=reason[:255], started_at=now, total=len(ids), policy_id=policy_id
    )
    ranges = split(ids, parts)
    if not ranges:
        SlaReevaluation.objects.filter(pk=run.pk).update(finished_at=now)
        return []
    return SlaReevaluationChunk.objects.bulk_create(
        SlaReevaluationChunk(run=run, first_id=first, last_id=last, total=count)
        for first, last, count in ranges
    )


class ChunkTracker:
    """``progress(done, total)`` callback of one chunk; ``finish`` marks the chunk finished,
    and the run when it was the last. Idempotent: a chunk run again (at-least-once delivery)
    records its own count again."""

    def __init__(self, chunk: SlaReevaluationChunk) -> None:
        self.chunk = chunk

    def __call__(self, done: int, total: int) -> None:
        SlaReevaluationChunk.objects.filter(pk=self.chunk.pk).update(done=done)

    def finish(self, done: int) -> None:
        with transaction.atomic():
            # The run's row lock: two chunks finishing together see each other's mark.
            run = SlaReevaluation.objects.select_for_update().get(pk=self.chunk.run_id)
            now = clock.now()
            SlaReevaluationChunk.objects.filter(pk=self.chunk.pk).update(done=done, finished_at=now)
            chunks = SlaReevaluationChunk.objects.filter(run=run)
            if run.finished_at is None and not chunks.filter(finished_at__isnull=True).exists():
                total_done = chunks.aggregate(done=Sum("done"))["done"] or 0
                SlaReevaluation.objects.filter(pk=run.pk).update(done=total_done, finished_at=now)


class Tracker:
    """``progress(done, total)`` callback for ``reevaluate_tickets`` that records each batch
    of a run in one piece (``rebuild_all_tickets``)."""

    def __init__(self, reason: str) -> None:
        self.run = SlaReevaluation.objects.create(reason=reason[:255], started_at=clock.now())

    def __call__(self, done: int, total: int) -> None:
        SlaReevaluation.objects.filter(pk=self.run.pk).update(done=done, total=total)

    def finish(self, done: int) -> None:
        SlaReevaluation.objects.filter(pk=self.run.pk).update(done=done, finished_at=clock.now())
