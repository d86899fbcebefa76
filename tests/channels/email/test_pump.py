"""The mail pump (kefu.channels.email.pump): with the database task queue, stored messages and
due emails are taken from their tables by a loop instead of one task row each. The process-level
guarantees (two workers, a killed worker) are in test_pump_processes.py."""

import pytest

from kefu.channels.email import actions, pump
from kefu.channels.email.inbound import process_next
from kefu.channels.email.models import InboundMessage, OutboundMessage
from kefu.channels.email.outbound import send_due
from kefu.core import clock
from kefu.tickets.models import Ticket

from .conftest import SUPPORT, raw_mail


@pytest.fixture
def database_queue(settings):  # type: ignore[no-untyped-def]
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def store(raw: bytes) -> InboundMessage:
    [row] = actions.store_inbound(raw=raw, recipients=[SUPPORT])
    return row


def test_the_pump_turns_waiting_mail_into_tickets_and_sends_the_acknowledgements(
    personas, support_address, database_queue, outbox
):
    from django_tasks_db.models import DBTaskResult

    # given three messages stored while no worker ran
    rows = [store(raw_mail(subject=f"pump {n}", sender=f"p{n}@acme.test")) for n in range(3)]
    assert {r.state for r in rows} == {"received"}

    # when a pump runs
    assert pump.drain_all() == 6  # three messages processed, three emails sent

    # then each is a ticket, in the order they arrived, and each customer got one answer
    for row in rows:
        row.refresh_from_db()
    assert [r.state for r in rows] == ["processed"] * 3
    assert [r.ticket.subject for r in rows] == ["pump 0", "pump 1", "pump 2"]
    assert sorted(to[0] for _f, to, _raw in outbox.messages) == [
        "p0@acme.test", "p1@acme.test", "p2@acme.test",
    ]  # fmt: skip
    assert set(OutboundMessage.objects.values_list("state", flat=True)) == {"sent"}
    # without a single task row
    assert DBTaskResult.objects.count() == 0
    # and nothing is left
    assert pump.drain_all() == 0


def test_a_message_too_big_for_the_pump_is_left_to_its_task(
    personas, support_address, database_queue
):
    big = store(raw_mail(subject="big", body="x" * (pump.INLINE_MAX_BYTES + 1)))
    small = store(raw_mail(subject="small"))

    # the pump takes the small one, not the big one in front of it
    assert process_next(max_bytes=pump.INLINE_MAX_BYTES) == (small.pk, "processed")
    assert process_next(max_bytes=pump.INLINE_MAX_BYTES) is None
    big.refresh_from_db()
    assert big.state == "received"
    # whose task processes it
    assert actions.process_inbound(big.pk) == "processed"
    assert Ticket.objects.filter(subject="big").count() == 1


def test_a_message_that_fails_is_quarantined_and_the_pump_goes_on(
    personas, support_address, database_queue, monkeypatch
):
    from kefu.channels.email import inbound

    bad = store(raw_mail(subject="bad"))
    good = store(raw_mail(subject="good"))
    real = inbound._process

    def fail_on_bad(row, parsed, *, force):  # type: ignore[no-untyped-def]
        if parsed.subject == "bad":
            raise RuntimeError("cannot read this one")
        real(row, parsed, force=force)

    monkeypatch.setattr(inbound, "_process", fail_on_bad)

    assert process_next(max_bytes=pump.INLINE_MAX_BYTES) == (bad.pk, "quarantined")
    assert process_next(max_bytes=pump.INLINE_MAX_BYTES) == (good.pk, "processed")
    bad.refresh_from_db()
    assert (bad.state, bad.error, bad.ticket_id) == (
        "quarantined", "RuntimeError: cannot read this one", None,
    )  # fmt: skip
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["good"]


def test_send_due_sends_only_what_is_due_and_not_claimed_by_another(
    personas, support_address, database_queue, outbox
):
    import datetime as dt

    store(raw_mail(subject="one", sender="one@acme.test"))
    store(raw_mail(subject="two", sender="two@acme.test"))
    store(raw_mail(subject="three", sender="three@acme.test"))
    while process_next(max_bytes=pump.INLINE_MAX_BYTES):
        pass
    first, second, third = OutboundMessage.objects.order_by("created_at", "id")
    # given one being sent by another pump right now, and one waiting for its next attempt
    OutboundMessage.objects.filter(pk=first.pk).update(state="sending", attempts=1)
    OutboundMessage.objects.filter(pk=second.pk).update(
        state="retrying", attempts=1, next_attempt_at=clock.now() + dt.timedelta(minutes=5)
    )

    # when a pump sends what is due
    assert send_due(limit=20) == 1

    # then only the third went out, once
    assert [to for _f, to, _raw in outbox.messages] == [["three@acme.test"]]
    states = dict(OutboundMessage.objects.values_list("pk", "state"))
    assert states == {first.pk: "sending", second.pk: "retrying", third.pk: "sent"}
    assert OutboundMessage.objects.get(pk=third.pk).attempts == 1
    assert send_due(limit=20) == 0


@pytest.mark.parametrize("second", ["pump", "task"])
def test_one_message_to_two_support_addresses_is_one_comment_on_one_ticket(
    personas, support_address, database_queue, second
):
    # given one message sent to two of our addresses: two stored rows
    actions.create_support_address(email="sales@kefu.test")
    raw = raw_mail(subject="twice", sender="t@acme.test", to=f"{SUPPORT}, sales@kefu.test")
    first, other = actions.store_inbound(raw=raw, recipients=[SUPPORT, "sales@kefu.test"])

    # when the pump takes the first, and the pump or a task the second
    assert process_next(max_bytes=pump.INLINE_MAX_BYTES) == (first.pk, "processed")
    if second == "pump":
        assert process_next(max_bytes=pump.INLINE_MAX_BYTES) == (other.pk, "processed")
    else:
        assert actions.process_inbound(other.pk) == "processed"

    # then one ticket with one comment, which both rows name
    first.refresh_from_db()
    other.refresh_from_db()
    assert Ticket.objects.filter(subject="twice").count() == 1
    assert (other.ticket_id, other.comment_id) == (first.ticket_id, first.comment_id)
    assert first.ticket.comments.count() == 1


def test_send_due_records_a_batch_of_sent_emails_in_one_write(
    personas, support_address, database_queue, outbox
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(3):
        store(raw_mail(subject=f"batch {n}", sender=f"b{n}@acme.test"))
    while process_next(max_bytes=pump.INLINE_MAX_BYTES):
        pass

    # when the pump sends the three acknowledgements
    with CaptureQueriesContext(connection) as captured:
        assert send_due(limit=20) == 3

    # then two writes in all — the claim and the record of the three sent — not one per email
    # (on SQLite each write outside a transaction waits for the database's write lock)
    writes = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SELECT")]
    assert len(writes) == 2, writes
    assert len(outbox.messages) == 3
    assert set(OutboundMessage.objects.values_list("state", flat=True)) == {"sent"}
    assert OutboundMessage.objects.filter(sent_at__isnull=True).count() == 0


def test_an_idle_pump_only_looks_and_takes_no_write_lock(
    personas, support_address, database_queue, django_assert_num_queries
):
    # when nothing waits, a round is two plain reads: no claim (a write transaction, on SQLite
    # the database's write lock) four times a second per worker
    with django_assert_num_queries(2) as captured:
        assert pump.drain() == 0
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in captured.captured_queries)
