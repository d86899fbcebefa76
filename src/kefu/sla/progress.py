"""Progress of the background re-evaluation (``SlaReevaluation`` rows), for the admin page."""

from kefu.core import clock

from .models import SlaReevaluation


def latest_run() -> SlaReevaluation | None:
    return SlaReevaluation.objects.order_by("-started_at", "-id").first()


class Tracker:
    """``progress(done, total)`` callback for ``reevaluate_tickets`` that records each batch."""

    def __init__(self, reason: str) -> None:
        self.run = SlaReevaluation.objects.create(reason=reason[:255], started_at=clock.now())

    def __call__(self, done: int, total: int) -> None:
        SlaReevaluation.objects.filter(pk=self.run.pk).update(done=done, total=total)

    def finish(self, done: int) -> None:
        SlaReevaluation.objects.filter(pk=self.run.pk).update(done=done, finished_at=clock.now())
