from django.tasks import task


@task()
def record_due() -> int:
    """Write the SLA warning and breach events that are due (every 30 s; idempotent)."""
    from .actions import record_due_events

    return record_due_events()


@task()
def reevaluate_open_tickets() -> int:
    """Re-evaluate every open ticket's SLA after a policy change (batched; idempotent). Its
    progress is an ``SlaReevaluation`` row, shown on the admin's policies page."""
    from .actions import reevaluate_tickets
    from .progress import Tracker

    tracker = Tracker("policy change")
    # Ticket metrics do not depend on policies: skipped here (they are kept on every update).
    done = reevaluate_tickets(open_only=True, progress=tracker, ticket_metrics=False)
    tracker.finish(done)
    return done
