"""kefu.core.bulk writes exactly what save() writes (JSON values and JSON null, SQL NULL,
Chinese text, datetimes to the microsecond, booleans, foreign keys), refuses what save()
refuses, and changes nothing when it refuses."""

import datetime as dt
from typing import Any

import pytest
from django.db import DataError, transaction
from django.db.models import Value
from django.db.models.fields.json import JSONField

from kefu.core import bulk
from kefu.core.ids import allocate_ids
from kefu.tickets.actions import NewComment, TicketData, create_ticket
from kefu.tickets.models import Audit, AuditEvent, Ticket

AT = dt.datetime(2026, 3, 2, 9, 0, 1, 123456, tzinfo=dt.UTC)

# (value, previous_value, via): JSON documents of every shape, SQL NULL and JSON null.
VALUES: list[tuple[Any, Any, Any]] = [
    ({"中文": ["标签", 1, 2.5, True, None]}, None, {"channel": "rule", "source": {"id": 7}}),
    ('text 工单 with "quotes" and \\ and \n', "", None),
    (12345, 0, {"channel": "web"}),
    ([], {}, None),
    (Value(None, JSONField()), False, None),
]


def _events(audit: Audit) -> list[AuditEvent]:
    return [
        AuditEvent(
            pk=pk, audit=audit, type="Change", field_name=f"field {n} 字段",
            value=value, previous_value=previous, via=via,
        )
        for n, (pk, (value, previous, via)) in enumerate(
            zip(allocate_ids(len(VALUES)), VALUES, strict=True)
        )
    ]  # fmt: skip


def _stored(events: list[AuditEvent]) -> list[tuple]:
    rows = list(
        AuditEvent.objects.filter(pk__in=[e.pk for e in events])
        .order_by("pk")
        .values_list("audit_id", "type", "field_name", "value", "previous_value", "via")
    )
    # SQL NULL (``isnull``) and JSON null differ in the database, not once read into Python.
    nulls = [
        tuple(
            AuditEvent.objects.filter(pk=e.pk, **{f"{name}__isnull": True}).exists()
            for name in ("value", "previous_value", "via")
        )
        for e in sorted(events, key=lambda e: e.pk)
    ]
    return list(zip(rows, nulls, strict=True))


@pytest.fixture
def ticket(personas):  # type: ignore[no-untyped-def]
    return create_ticket(
        actor=personas.admin,
        data=TicketData(subject="Bulk 批量", requester=personas.bob),
        comment=NewComment(body="Help"),
    )


def test_insert_stores_what_save_stores(ticket, personas):  # type: ignore[no-untyped-def]
    audit = Audit.objects.create(ticket=ticket, author=personas.admin, created_at=AT,
                                 metadata={"system": {"client": "批量"}})  # fmt: skip
    saved = _events(audit)
    for event in saved:
        event.save()
    written = _events(audit)
    bulk.insert(AuditEvent, written)

    assert _stored(written) == _stored(saved)
    assert all(not e._state.adding for e in written)
    # JSON null and SQL NULL stay apart: row 4's value is JSON null, row 0's previous is NULL.
    assert not _stored(written)[4][1][0]
    assert _stored(written)[0][1][1]

    audits = [Audit(pk=pk, ticket=ticket, author=None, created_at=AT + dt.timedelta(days=n),
                    via_source={"rel": "批量"})
              for n, pk in enumerate(allocate_ids(2))]  # fmt: skip
    bulk.insert(Audit, audits)
    assert list(
        Audit.objects.filter(pk__in=[a.pk for a in audits])
        .order_by("pk")
        .values_list("created_at", "via_source", "author_id", "metadata")
    ) == [(AT, {"rel": "批量"}, None, {}), (AT + dt.timedelta(days=1), {"rel": "批量"}, None, {})]


def test_update_writes_what_save_writes(ticket, personas):  # type: ignore[no-untyped-def]
    other = create_ticket(
        actor=personas.admin,
        data=TicketData(subject="Other", requester=personas.bob),
        comment=NewComment(body="Help"),
    )
    names = ["subject", "tags", "custom_fields", "due_at", "is_public", "assignee", "external_id"]
    for t, n in ((ticket, 1), (other, 2)):
        t.subject = f'改了 {n} "quoted"'
        t.tags = ["标签", f"t{n}"]
        t.custom_fields = {"f1": None, "f2": [n, "二"]}
        t.due_at = AT + dt.timedelta(microseconds=n)
        t.is_public = False
        t.assignee = personas.alice if n == 1 else None
        t.external_id = None if n == 1 else "ext-二"
    bulk.update(Ticket, [ticket, other], names)

    fields = ["subject", "tags", "custom_fields", "due_at", "is_public", "assignee_id",
              "external_id"]  # fmt: skip
    assert list(Ticket.objects.filter(pk__in=[ticket.pk, other.pk]).order_by("pk")
                .values_list(*fields)) == [
        ("改了 1 \"quoted\"", ["标签", "t1"], {"f1": None, "f2": [1, "二"]},
         AT + dt.timedelta(microseconds=1), False, personas.alice.pk, None),
        ("改了 2 \"quoted\"", ["标签", "t2"], {"f1": None, "f2": [2, "二"]},
         AT + dt.timedelta(microseconds=2), False, None, "ext-二"),
    ]  # fmt: skip


def test_a_value_save_refuses_is_refused_and_nothing_is_written(personas):  # type: ignore[no-untyped-def]
    from django.db import connection

    ticket = create_ticket(
        actor=personas.admin,
        data=TicketData(subject="Bulk", requester=personas.bob),
        comment=NewComment(body="Help"),
    )
    audit = Audit.objects.create(ticket=ticket, author=personas.admin)
    events = _events(audit)
    events[2].type = "x" * 41  # the column holds 40
    if connection.vendor == "sqlite":
        pytest.skip("SQLite does not enforce varchar lengths")
    with pytest.raises(DataError), transaction.atomic():
        bulk.insert(AuditEvent, events)
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in events]).exists()

    ticket.subject = "y" * 501  # the column holds 500
    with pytest.raises(DataError), transaction.atomic():
        bulk.update(Ticket, [ticket], ["subject"])
    ticket.refresh_from_db()
    assert ticket.subject == "Bulk"
