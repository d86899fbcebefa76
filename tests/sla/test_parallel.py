"""The re-evaluation after a policy change, split over worker processes: chunks cover each
ticket once, the run's progress is its chunks' summed and it finishes with the last one, and
a batch judged outside the write transaction never overwrites what a user's update wrote
meanwhile (``reevaluation.plan_rejudge`` / ``reevaluation.write_rejudged``)."""

import datetime as dt

import pytest
from django.forms.models import model_to_dict

from kefu.core import clock
from kefu.sla import actions as sla
from kefu.sla import progress, tasks
from kefu.sla.actions.live import evaluate_tickets
from kefu.sla.actions.reevaluation import plan_rejudge, write_rejudged
from kefu.sla.models import SlaMetricState, SlaPolicy, SlaReevaluation, SlaTicketState
from kefu.tickets.models import Ticket

from .helpers import SHANGHAI, agent_reply, local, office, open_ticket, targets

pytestmark = pytest.mark.django_db

T0 = local(SHANGHAI, 2026, 11, 23, 10, 0)  # a Monday morning
NOW = T0 + dt.timedelta(hours=1)


def standard(first_reply: int = 60) -> SlaPolicy:
    return sla.create_policy(
        title="Standard",
        filter={"all": [], "any": []},
        policy_metrics=targets("normal", first_reply_time=first_reply, requester_wait_time=600),
    )


def retarget(first_reply: int) -> None:
    """Change the targets (the re-evaluation task it queues after commit does not run: the
    test's transaction never commits; the test judges and writes the batch itself)."""
    sla.update_policy(
        SlaPolicy.objects.get(),
        policy_metrics=targets("normal", first_reply_time=first_reply, requester_wait_time=600),
    )


def stored() -> list[dict]:
    return sorted(
        (
            {k: v for k, v in model_to_dict(row).items() if k not in ("id", "updated_at")}
            for row in [*SlaMetricState.objects.all(), *SlaTicketState.objects.all()]
        ),
        key=repr,
    )


def test_chunks_cover_every_ticket_once_in_nearly_equal_parts():
    ids = [3, 5, 8, 13, 21, 34, 55]

    ranges = progress.split(ids, 3)

    assert ranges == [(3, 5, 2), (8, 13, 2), (21, 55, 3)]
    assert [i for first, last, _ in ranges for i in ids if first <= i <= last] == ids
    assert progress.split(ids[:2], 4) == [(3, 3, 1), (5, 5, 1)]
    assert progress.split([], 4) == []


def test_a_run_shows_its_chunks_progress_summed_and_finishes_with_the_last_chunk():
    first, second = progress.start_run("policy 1 changed", ids=list(range(1, 11)), parts=2)

    progress.ChunkTracker(first)(3, 5)
    progress.ChunkTracker(second)(4, 5)
    run = progress.latest_run()
    assert run is not None and (run.done, run.total, run.finished_at) == (7, 10, None)

    progress.ChunkTracker(first).finish(5)
    run = progress.latest_run()
    assert run is not None and (run.done, run.finished_at) == (9, None)

    progress.ChunkTracker(second).finish(5)
    run = progress.latest_run()
    assert run is not None and run.done == 10 and run.finished_at is not None


def test_a_policy_change_is_split_into_chunk_tasks_that_reevaluate_every_open_ticket(
    personas, monkeypatch, django_capture_on_commit_callbacks
):
    office()
    standard()
    tickets = [open_ticket(personas, T0 + dt.timedelta(minutes=n)) for n in range(7)]
    monkeypatch.setattr(tasks, "MIN_CHUNK", 2)  # seven tickets in three chunks

    with django_capture_on_commit_callbacks(execute=True), clock.frozen_at(NOW):
        sla.update_policy(
            SlaPolicy.objects.get(),
            policy_metrics=targets("normal", first_reply_time=120, requester_wait_time=600),
        )

    run = SlaReevaluation.objects.order_by("-id").first()
    assert run is not None and run.chunks.count() == 3
    assert (run.total, run.done) == (7, 7) and run.finished_at is not None
    assert [c.done for c in run.chunks.all()] == [2, 2, 3]
    for ticket in tickets:
        state = SlaMetricState.objects.get(ticket=ticket, metric="first_reply_time")
        assert state.target_minutes == 120


def test_an_update_made_while_a_batch_was_judged_is_not_overwritten(personas):
    # given: two tickets evaluated under a first-reply target of 60 minutes
    office()
    standard(first_reply=60)
    replied, quiet = open_ticket(personas, T0), open_ticket(personas, T0)
    # when: the targets change and a batch is judged (outside the write transaction) ...
    retarget(first_reply=120)
    with clock.frozen_at(NOW):
        plan = plan_rejudge([replied.pk, quiet.pk], now=NOW)
    # ... an agent replies to one of them before the batch is written (the hook evaluates it)
    agent_reply(personas, replied, T0 + dt.timedelta(minutes=30))
    with clock.frozen_at(NOW):
        write_rejudged(plan, now=NOW)

    # then: the reply counts (first reply achieved), and both have what a full evaluation gives
    assert SlaMetricState.objects.get(ticket=replied, metric="first_reply_time").stage == (
        "achieved"
    )
    assert SlaMetricState.objects.get(ticket=quiet, metric="first_reply_time").target_minutes == (
        120
    )
    written = stored()
    with clock.frozen_at(NOW):
        evaluate_tickets(list(Ticket.objects.order_by("pk")), now=NOW, ticket_metrics=False)
    assert stored() == written


def test_a_batch_judged_before_another_policy_change_is_judged_again(personas):
    office()
    standard(first_reply=60)
    ticket = open_ticket(personas, T0)
    retarget(first_reply=120)
    with clock.frozen_at(NOW):
        plan = plan_rejudge([ticket.pk], now=NOW)

    retarget(first_reply=240)  # committed before the plan is written
    with clock.frozen_at(NOW):
        write_rejudged(plan, now=NOW)

    state = SlaMetricState.objects.get(ticket=ticket, metric="first_reply_time")
    assert state.target_minutes == 240


def test_a_warning_recorded_while_a_batch_was_judged_fires_again_for_the_new_deadline(personas):
    # given: a first reply due at 11:00, warned 30 minutes before
    office()
    sla.create_policy(
        title="Standard",
        filter={"all": [], "any": []},
        policy_metrics=targets("normal", first_reply_time=60, requester_wait_time=600),
        warning_minutes=30,
    )
    ticket = open_ticket(personas, T0)
    # when: the target doubles and the batch is judged at 10:40 ...
    retarget(first_reply=120)
    at = T0 + dt.timedelta(minutes=40)
    with clock.frozen_at(at):
        plan = plan_rejudge([ticket.pk], now=at)
        assert plan.rest == []  # judged, not left to the replay
        # ... the scheduler records the old deadline's warning (due 10:30) before the write
        assert sla.record_due_events(now=at) == 1
        write_rejudged(plan, now=at)

    # then: the new deadline (12:00) gets its own warning at 11:30
    state = SlaMetricState.objects.get(ticket=ticket, metric="first_reply_time")
    assert state.breach_at == T0 + dt.timedelta(hours=2)
    assert state.warn_at == T0 + dt.timedelta(minutes=90)
    assert state.warned_at is None
