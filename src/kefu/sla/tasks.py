from django.tasks import task

# A run after a policy change is split into up to this many chunks, one task each, so that
# as many worker processes share it (two `kefu worker` processes on two cores: about half the
# wall clock, bench/RESULTS.md); more chunks than workers even out a worker slowed by other
# work. A chunk has at least MIN_CHUNK tickets (a small run stays one task).
CHUNKS = 4
MIN_CHUNK = 2_500


@task()
def record_due() -> int:
    """Write the SLA warning and breach events that are due (every 30 s; idempotent)."""
    from .actions import record_due_events

    return record_due_events()


@task()
def reevaluate_open_tickets(policy_id: int | None = None) -> int:
    """Re-evaluate open tickets' SLAs after a policy change (batched; idempotent): those the
    change of ``policy_id`` can affect, or all (None). Splits them into chunks by ticket id,
    one ``reevaluate_chunk`` task each; its progress is an ``SlaReevaluation`` row (the
    chunks' summed), shown on the admin's policies page. Returns how many tickets."""
    from .actions import ticket_ids_to_reevaluate
    from .actions.policies import tickets_affected_by
    from .progress import start_run

    ids = ticket_ids_to_reevaluate(
        open_only=True, only=None if policy_id is None else tickets_affected_by(policy_id)
    )
    chunks = start_run(
        "policy change" if policy_id is None else f"policy {policy_id} changed",
        ids=ids,
        parts=max(1, min(CHUNKS, len(ids) // MIN_CHUNK)),
        policy_id=policy_id,
    )
    for chunk in chunks:
        reevaluate_chunk.enqueue(chunk_id=chunk.pk)
    return len(ids)


@task()
def reevaluate_chunk(chunk_id: int) -> int:
    """One chunk of ``reevaluate_open_tickets``: the tickets of its id range the change can
    affect (idempotent, as the whole)."""
    from .actions import reevaluate_tickets
    from .actions.policies import tickets_affected_by
    from .models import SlaReevaluationChunk
    from .progress import ChunkTracker

    chunk = SlaReevaluationChunk.objects.select_related("run").filter(pk=chunk_id).first()
    if chunk is None:
        return 0  # the run was deleted
    policy_id = chunk.run.policy_id
    tracker = ChunkTracker(chunk)
    done = reevaluate_tickets(
        open_only=True,
        progress=tracker,
        only=None if policy_id is None else tickets_affected_by(policy_id),
        id_range=(chunk.first_id, chunk.last_id),
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
