"""The SLA hook's cost on a new ticket (``sla.evaluate``, kefu.sla.actions.live): statements
pinned, and the shortcut for a ticket created in the change kept to what it may skip."""

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.sla import actions as sla
from kefu.sla.models import SlaTicketState, TicketMetricEvent, TicketMetricSet
from kefu.tickets import hooks
from kefu.tickets.actions import NewComment, TicketData, create_ticket

from .helpers import metric, office, open_ticket, policy

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in Shanghai


@pytest.fixture
def hook_statements(monkeypatch) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The SQL the SLA hook runs, for each ticket change it sees."""
    seen: list[str] = []
    registered = hooks._hooks["sla.evaluate"]

    def counted(change: hooks.TicketChange) -> None:
        with CaptureQueriesContext(connection) as captured:
            registered.hook(change)
        seen.extend(q["sql"] for q in captured.captured_queries)

    monkeypatch.setitem(hooks._hooks, "sla.evaluate", dataclasses.replace(registered, hook=counted))
    yield seen


def new_ticket(p, subject: str = "Washer leaks"):  # type: ignore[no-untyped-def]
    return create_ticket(
        actor=p.bob, data=TicketData(subject=subject), comment=NewComment(body="It leaks.")
    )


def test_a_new_ticket_without_any_policy_costs_the_hook_eight_statements(personas, hook_statements):
    new_ticket(personas, "warm")  # the policy list is cached per process from here on
    hook_statements.clear()

    ticket = new_ticket(personas)

    # The ticket read back, its context and its history; the state row, the metric events
    # and the metric set with their ids. Not read: the policies (cached), the stored metric
    # rows, events and set (a ticket created in this transaction has none). Was 12.
    assert len(hook_statements) == 8, hook_statements
    assert not any("FROM sla_slapolicy" in sql for sql in hook_statements)
    assert SlaTicketState.objects.filter(ticket=ticket, policy__isnull=True).exists()
    assert TicketMetricSet.objects.filter(ticket=ticket).count() == 1
    assert TicketMetricEvent.objects.filter(ticket=ticket).exists()


def test_a_policy_created_later_applies_to_the_next_new_ticket(personas):
    new_ticket(personas, "before")  # caches "no policy"

    standard = policy(first_reply_time=60)
    ticket = open_ticket(personas, AT)

    assert SlaTicketState.objects.get(ticket=ticket).policy_id == standard.pk
    assert metric(ticket, "first_reply_time").stage == "active"


def test_a_policy_changed_by_another_process_applies_to_the_next_new_ticket(personas):
    standard = policy(first_reply_time=60)
    new_ticket(personas, "before")  # caches the policy
    # another process moves it to high priority only: this process was not told
    # (no policies_changed), the fingerprint (its updated_at) shows it
    type(standard).objects.filter(pk=standard.pk).update(
        filter={"all": [{"field": "priority", "operator": "is", "value": "high"}], "any": []},
        updated_at=standard.updated_at + dt.timedelta(seconds=1),
    )

    ticket = open_ticket(personas, AT)

    assert SlaTicketState.objects.get(ticket=ticket).policy_id is None


def test_a_trigger_pinning_a_schedule_on_create_still_has_its_rows_read(personas):
    # given: a schedule set on the ticket while it is created (as a trigger does), which
    # writes the ticket's SLA rows before the hook runs
    standard = policy(first_reply_time=60)
    schedule = office()

    def pin(change: hooks.TicketChange) -> None:
        if change.kind == "create":
            sla.set_ticket_schedule(change.ticket, schedule=schedule)

    hooks.register("test.pin", pin, order=150)
    try:
        ticket = open_ticket(personas, AT)
    finally:
        del hooks._hooks["test.pin"]

    # then: one set of rows, not a second one beside the first
    state = SlaTicketState.objects.get(ticket=ticket)
    assert (state.policy_id, state.schedule_override_id) == (standard.pk, schedule.pk)
    assert TicketMetricSet.objects.filter(ticket=ticket).count() == 1
    events = list(
        TicketMetricEvent.objects.filter(ticket=ticket).values_list("metric", "type", "time")
    )
    assert len(events) == len(set(events))
