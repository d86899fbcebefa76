from django.tasks import task


@task()
def record_due() -> int:
    """Write the SLA warning and breach events that are due (every 30 s; idempotent)."""
    from .actions import record_due_events

    return record_due_events()


@task()
def reevaluate_open_tickets(policy_id: int | None = None) -> int:
    """Re-evaluate open tickets' SLAs after a policy change (batched; idempotent): those the
    change of ``policy_id`` can affect, or all (None). Its progress is an ``SlaReevaluation``
    row, shown on the admin's policies page."""
    from .actions import reevaluate_tickets
    from .actions.policies import tickets_affected_by
    from .progress import Tracker

    tracker = Tracker("policy change" if policy_id is None else f"policy {policy_id} changed")
    done = reevaluate_tickets(
        open_only=True,
        progress=tracker,
        only=None if policy_id is None else tickets_affected_by(policy_id),
        # Ticket metrics do not depend on policies (they are kept on every update).
        ticket_metrics=False,
    )
    tracker.finish(done)
    return done


@task()
def rebuild_all_tickets() -> int:
    """Evaluate every ticket, solved and closed ones too (what ``kefu manage sla_rebuild``
    does): after loading history that never ran the ticket hooks, such as demo data."""
    from .actions import reevaluate_tickets
    from .progress import Tracker

    tracker = Tracker("rebuild")
    done = reevaluate_tickets(open_only=False, progress=tracker)
    tracker.finish(done)
    return done
