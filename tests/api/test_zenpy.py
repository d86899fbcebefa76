"""The real Zendesk client (zenpy) against a live Kefu server.

zenpy builds ``https://<subdomain>.zendesk.com/api/v2/...`` URLs; its ``ZENPY_FORCE_SCHEME``
and ``ZENPY_FORCE_NETLOC`` environment variables (read on every request, see
``zenpy/lib/api.py`` ``_build_url``/``base_url``) point it at the test server instead.
"""

import time

import pytest
from django.test import override_settings
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, RecordNotFoundException

from kefu.tickets.models import Ticket as TicketRow

# serialized_rollback: the flush after each test would wipe rows the migrations wrote (the
# object id counter, the default custom statuses).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_zenpy_reads_me_and_creates_updates_and_comments(personas, zenpy_for):
    zenpy = zenpy_for(personas.alice)
    assert zenpy.users.me().id == personas.alice.pk

    created = zenpy.tickets.create(
        Ticket(
            subject="打印机着火了",
            description="Smoke everywhere",
            requester=User(name="Dora", email="dora@example.test"),
            priority="high",
            tags=["fire"],
        )
    )
    ticket = created.ticket
    assert ticket.subject == "打印机着火了"
    assert ticket.priority == "high"
    # (users/{id} belongs to the users resource; check the requester in the database)
    assert TicketRow.objects.get(pk=ticket.id).requester.email == "dora@example.test"
    assert created.audit.events[0]["type"] in {"Create", "Comment"}

    ticket.status = "pending"
    ticket.comment = Comment(body="We are on our way", public=True)
    updated = zenpy.tickets.update(ticket)
    assert updated.ticket.status == "pending"

    ticket.comment = Comment(body="Internal: bring an extinguisher", public=False)
    zenpy.tickets.update(ticket)
    comments = list(zenpy.tickets.comments(ticket=ticket.id))
    assert [c.body for c in comments] == [
        "Smoke everywhere",
        "We are on our way",
        "Internal: bring an extinguisher",
    ]
    assert [c.public for c in comments] == [True, True, False]
    audits = list(zenpy.tickets.audits(ticket=ticket.id))
    assert len(audits) == 3


def test_zenpy_paginates_tickets_with_cursors(personas, zenpy_for):
    for n in range(7):
        accounts_ticket(personas, f"T{n}")
    zenpy = zenpy_for(personas.alice)
    subjects = [t.subject for t in zenpy.tickets(cursor_pagination=3)]
    assert subjects == [f"T{n}" for n in range(7)]
    shown = list(zenpy.tickets(ids=list(TicketRow.objects.values_list("id", flat=True))[:2]))
    assert len(shown) == 2


def test_zenpy_sees_404_for_someone_elses_ticket(personas, zenpy_for):
    carols = accounts_ticket(personas, "Carol's", requester=personas.carol)
    zenpy = zenpy_for(personas.bob)
    with pytest.raises(RecordNotFoundException):
        zenpy.tickets(id=carols.pk)


def test_zenpy_create_many_and_job_status(personas, zenpy_for):
    zenpy = zenpy_for(personas.alice)
    job = zenpy.tickets.create(
        [
            Ticket(subject="Bulk 1", description="one", requester_id=personas.bob.pk),
            Ticket(subject="Bulk 2", description="two", requester_id=personas.bob.pk),
        ]
    )
    status = zenpy.job_status(id=job.id)
    assert status.status == "completed"
    assert sorted(TicketRow.objects.values_list("subject", flat=True)) == ["Bulk 1", "Bulk 2"]


def test_zenpy_imports_history(personas, zenpy_for):
    zenpy = zenpy_for(personas.admin)
    imported = zenpy.ticket_import.create(
        Ticket(
            subject="From the old system",
            requester_id=personas.bob.pk,
            created_at="2021-03-04T05:06:07Z",
            comments=[
                Comment(author_id=personas.bob.pk, value="Old question",
                        created_at="2021-03-04T05:06:07Z"),
                Comment(author_id=personas.alice.pk, value="Old answer",
                        created_at="2021-03-05T00:00:00Z"),
            ],
        )
    )  # fmt: skip
    row = TicketRow.objects.get(subject="From the old system")
    assert row.created_at.isoformat().startswith("2021-03-04T05:06:07")
    assert imported is not None


@override_settings(KEFU_API_RATE_LIMIT=3)
def test_zenpy_stops_when_rate_limited_beyond_its_budget(personas, zenpy_for):
    zenpy = zenpy_for(personas.alice, ratelimit_budget=0)
    # The limit counts per clock minute: start early in one, so all four requests share it.
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)
    for _ in range(3):
        zenpy.users.me()
    with pytest.raises((RatelimitBudgetExceeded, APIException)):
        zenpy.users.me()


def accounts_ticket(personas, subject, requester=None):  # type: ignore[no-untyped-def]
    from .conftest import make_ticket

    return make_ticket(requester or personas.bob, subject)
