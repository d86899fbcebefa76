"""record_events: history entries that change no field, in their own audit or joining one."""

import datetime as dt

import pytest

from kefu.tickets import hooks
from kefu.tickets.actions import (
    Event,
    NewComment,
    TicketData,
    create_ticket,
    record_events,
    update_ticket,
)
from kefu.tickets.choices import Channel
from kefu.tickets.models import Audit, Ticket

pytestmark = pytest.mark.django_db


def _ticket(personas):  # type: ignore[no-untyped-def]
    return create_ticket(
        actor=personas.bob,
        data=TicketData(subject="Printer"),
        comment=NewComment(body="It smokes"),
    )


def test_events_get_their_own_audit_by_the_system_and_run_no_hooks(personas):
    ticket = _ticket(personas)
    before = Ticket.objects.get(pk=ticket.pk).updated_at
    seen = []
    hooks.register("test.seen", seen.append, order=1)
    try:
        at = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
        audit = record_events(
            ticket,
            [Event("SlaBreach", field_name="first_reply_time", value={"policy": 1})],
            actor=None,
            via_channel=Channel.SYSTEM,
            via_source={"rel": "sla"},
            at=at,
        )
    finally:
        hooks._hooks.pop("test.seen")
    assert seen == []
    assert audit is not None and audit.author_id is None and audit.created_at == at
    event = audit.events.get()
    assert (event.type, event.field_name, event.value) == (
        "SlaBreach",
        "first_reply_time",
        {"policy": 1},
    )
    assert audit.via_source == {"rel": "sla"}
    assert Ticket.objects.get(pk=ticket.pk).updated_at == before  # not touched


def test_events_join_the_audit_in_progress_and_touch_moves_updated_at(personas):
    ticket = _ticket(personas)
    change = update_ticket(ticket, actor=personas.alice, data=TicketData(status="open"))
    audit = Audit.objects.filter(ticket=change).latest("id")
    count = Audit.objects.filter(ticket=ticket).count()
    at = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    joined = record_events(
        ticket,
        [Event("Notification", value={"subject": "hi"})],
        actor=None,
        via_channel=Channel.RULE,
        audit=audit,
        at=at,
        touch=True,
    )
    assert joined == audit
    assert Audit.objects.filter(ticket=ticket).count() == count
    event = audit.events.latest("id")
    assert event.type == "Notification" and event.via == {"channel": "rule", "source": {}}
    assert Ticket.objects.get(pk=ticket.pk).updated_at == at


def test_no_events_write_nothing(personas):
    ticket = _ticket(personas)
    count = Audit.objects.count()
    assert record_events(ticket, [], actor=None, via_channel=Channel.SYSTEM) is None
    assert Audit.objects.count() == count
