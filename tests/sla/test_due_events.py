"""The scheduler's due time: ``SlaTicketState.next_event_at`` is the earliest breach or warning
of the ticket whose event is not written yet, kept by every write of the metric rows; the
scheduler reads only the tickets it names. On PostgreSQL, moving deadlines rewrites metric
rows in place (HOT updates: none of their changed columns is indexed)."""

import datetime as dt
import importlib

import pytest
from django.db import connection

from kefu.core import clock
from kefu.sla import actions as sla
from kefu.sla.models import SlaPolicy, SlaTicketState
from kefu.tickets.models import AuditEvent

from .helpers import SHANGHAI, agent_reply, local, office, open_ticket, policy, targets

pytestmark = pytest.mark.django_db

T0 = local(SHANGHAI, 2026, 11, 23, 10, 0)  # a Monday morning in office hours
MINUTE = dt.timedelta(minutes=1)


def due(ticket) -> dt.datetime | None:  # type: ignore[no-untyped-def]
    return SlaTicketState.objects.get(ticket=ticket).next_event_at


def sla_events(ticket) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    events = AuditEvent.objects.filter(audit__ticket=ticket, type__in=["SlaWarning", "SlaBreach"])
    return [(e.type, e.field_name) for e in events.order_by("id")]


def test_the_due_time_moves_from_warning_to_breach_to_the_next_deadline(personas):
    office()
    policy(first_reply_time=60, requester_wait_time=240)  # warnings 30 minutes before
    ticket = open_ticket(personas, T0)
    # first reply: warning 10:30, breach 11:00; requester wait: warning 13:30, breach 14:00
    assert due(ticket) == T0 + 30 * MINUTE

    with clock.frozen_at(T0 + 29 * MINUTE):
        assert sla.record_due_events() == 0
    with clock.frozen_at(T0 + 31 * MINUTE):
        assert sla.record_due_events() == 1
    assert sla_events(ticket) == [("SlaWarning", "first_reply_time")]
    assert due(ticket) == T0 + 60 * MINUTE

    with clock.frozen_at(T0 + 61 * MINUTE):
        assert sla.record_due_events() == 1
        assert sla.record_due_events() == 0
    assert sla_events(ticket)[-1] == ("SlaBreach", "first_reply_time")
    assert due(ticket) == T0 + 210 * MINUTE  # the requester wait's warning

    agent_reply(personas, ticket, T0 + 90 * MINUTE, status="pending")  # requester wait pauses
    assert due(ticket) is None


def test_a_late_scheduler_writes_the_breach_and_not_the_stale_warning(personas):
    office()
    policy(first_reply_time=60)
    ticket = open_ticket(personas, T0)

    with clock.frozen_at(T0 + 2 * 60 * MINUTE):  # down over both moments
        assert sla.record_due_events() == 1

    assert sla_events(ticket) == [("SlaBreach", "first_reply_time")]
    assert due(ticket) is None


def test_a_new_target_makes_its_deadline_due_again(personas):
    office()
    policy(first_reply_time=60)
    ticket = open_ticket(personas, T0)
    with clock.frozen_at(T0 + 31 * MINUTE):
        assert sla.record_due_events() == 1  # the warning for 11:00
    assert due(ticket) == T0 + 60 * MINUTE

    with clock.frozen_at(T0 + 40 * MINUTE):
        sla.update_policy(SlaPolicy.objects.get(), policy_metrics=targets(
            "normal", first_reply_time=120))  # fmt: skip
        sla.reevaluate_tickets(ticket_metrics=False)

    assert due(ticket) == T0 + 90 * MINUTE  # the new deadline's warning (12:00 - 30 minutes)


def test_the_migration_computes_the_due_time_the_evaluation_keeps(personas):
    office()
    policy(first_reply_time=60, requester_wait_time=240)
    warned = open_ticket(personas, T0)
    breached = open_ticket(personas, T0)
    waiting = open_ticket(personas, T0 + 5 * MINUTE)
    answered = open_ticket(personas, T0)
    agent_reply(personas, answered, T0 + 10 * MINUTE, status="pending")
    with clock.frozen_at(T0 + 31 * MINUTE):
        sla.record_due_events()  # warnings of the first reply for three tickets
    with clock.frozen_at(T0 + 61 * MINUTE):
        sla.record_due_events()  # their breaches (the third one's comes at 11:05)
    kept = dict(SlaTicketState.objects.values_list("ticket_id", "next_event_at"))
    assert kept[answered.pk] is None
    assert kept[warned.pk] == kept[breached.pk] == T0 + 210 * MINUTE
    assert kept[waiting.pk] == T0 + 65 * MINUTE

    migration = importlib.import_module("kefu.sla.migrations.0007_scheduler_due_on_ticket_state")
    SlaTicketState.objects.update(next_event_at=None)
    with connection.cursor() as cursor:
        cursor.execute(migration.FILL)

    assert dict(SlaTicketState.objects.values_list("ticket_id", "next_event_at")) == kept


def test_moving_deadlines_rewrites_metric_rows_in_place_on_postgresql(personas):
    if connection.vendor != "postgresql":
        pytest.skip("HOT updates are PostgreSQL's")
    office()
    policy(first_reply_time=60, requester_wait_time=240)
    for minute in range(5):
        open_ticket(personas, T0 + minute * MINUTE)

    def updates() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_stat_get_xact_tuples_updated('sla_slametricstate'::regclass), "
                "pg_stat_get_xact_tuples_hot_updated('sla_slametricstate'::regclass)"
            )
            return cursor.fetchone()

    before = updates()
    with clock.frozen_at(T0 + 20 * MINUTE):
        sla.update_policy(SlaPolicy.objects.get(), policy_metrics=targets(
            "normal", first_reply_time=120, requester_wait_time=480))  # fmt: skip
        sla.reevaluate_tickets(ticket_metrics=False)
    after = updates()

    updated, hot = after[0] - before[0], after[1] - before[1]
    assert updated == 10  # two metric rows of each of five tickets
    assert hot == updated


def test_metric_events_are_inserted_once_with_their_json_and_sql_nulls(personas):
    from kefu.sla.actions.writes import EventRow, _insert_events
    from kefu.sla.models import TicketMetricEvent

    ticket = open_ticket(personas, T0)
    TicketMetricEvent.objects.filter(ticket=ticket).delete()
    sla_value = {"target": 60, "business_hours": True, "policy": {"title": "标准"}}
    rows = [
        EventRow(ticket.pk, "reply_time", 1, "breach", T0, sla_value),
        EventRow(ticket.pk, "reply_time", 1, "apply_sla", T0, None, {"calendar": 5}),
    ]

    _insert_events(rows)
    _insert_events([*rows, EventRow(ticket.pk, "reply_time", 2, "breach", T0 + MINUTE)])

    stored = TicketMetricEvent.objects.filter(ticket=ticket).order_by("instance_id", "type")
    assert list(stored.values_list("instance_id", "type", "time", "sla", "status")) == [
        (1, "apply_sla", T0, None, {"calendar": 5}),
        (1, "breach", T0, sla_value, None),
        (2, "breach", T0 + MINUTE, None, None),
    ]
    assert stored.filter(sla__isnull=True).count() == 2  # SQL NULL, not JSON null
