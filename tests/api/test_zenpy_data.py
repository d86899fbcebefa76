"""The real Zendesk client (zenpy) against a live server: search, paging people,
incremental exports, satisfaction ratings."""

import datetime as dt

import pytest
from zenpy.lib.api_objects import SatisfactionRating

from kefu.accounts import actions as accounts
from kefu.core import clock
from kefu.tickets.actions import TicketData, delete_ticket, update_ticket

from .conftest import make_ticket

# serialized_rollback: the flush after each test would wipe rows the migrations wrote.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_zenpy_searches_in_chinese_with_keywords_and_pages(personas, zenpy_for):
    refunds = [make_ticket(personas.bob, f"申请退款被拒绝 {n}", priority="high") for n in range(3)]
    make_ticket(personas.bob, "打印机坏了")
    make_ticket(personas.carol, "退款 Carol", priority="low")
    zenpy = zenpy_for(personas.alice)
    found = list(zenpy.search("退款", type="ticket", priority="high", sort_by="created_at",
                              sort_order="asc"))  # fmt: skip
    assert [t.id for t in found] == [t.pk for t in refunds]
    either = {t.id for t in zenpy.search("退款", type="ticket", priority=["high", "low"])}
    assert len(either) == 4
    assert zenpy.search.count("退款", type="ticket") == 4
    bob_sees = {t.id for t in zenpy_for(personas.bob).search("退款", type="ticket")}
    assert bob_sees == {t.pk for t in refunds}
    exported = list(zenpy.search_export("退款", type="ticket", priority="high"))
    assert sorted(t.id for t in exported) == [t.pk for t in refunds]


def test_zenpy_pages_through_users_and_finds_them(personas, zenpy_for):
    for n in range(7):
        accounts.create_user(name=f"客户 {n}", email=f"customer{n}@example.test")
    zenpy = zenpy_for(personas.alice)
    emails = [u.email for u in zenpy.users(cursor_pagination=3)]
    assert len(emails) == len(set(emails)) == 11
    offset = [u.email for u in zenpy.users(cursor_pagination=False)]
    assert sorted(offset) == sorted(emails)
    found = list(zenpy.users.search("customer3"))
    assert [u.email for u in found] == ["customer3@example.test"]
    created = zenpy.users.create_or_update(
        zenpy_user(name="Dora 赵", email="dora@acme.test", external_id="crm-dora")
    )
    assert created.organization_id == personas.acme.pk
    assert [u.name for u in zenpy.users(external_id="crm-dora")] == ["Dora 赵"]


def zenpy_user(**fields):  # type: ignore[no-untyped-def]
    from zenpy.lib.api_objects import User

    return User(**fields)


def test_zenpy_follows_the_incremental_ticket_export_to_its_end(personas, zenpy_for):
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with clock.frozen_at(start + dt.timedelta(minutes=1)):
        tickets = [make_ticket(personas.bob, f"增量 {n}") for n in range(5)]
    with clock.frozen_at(start + dt.timedelta(minutes=2)):
        delete_ticket(tickets[0], actor=personas.alice)
    zenpy = zenpy_for(personas.admin)
    exported = list(zenpy.tickets.incremental(start_time=int(start.timestamp()), per_page=2))
    assert [t.id for t in exported] == [t.pk for t in tickets[1:]] + [tickets[0].pk]
    assert exported[-1].status == "deleted"
    # people and organizations changed in this very second wait for the next one
    with clock.frozen_at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)):
        users = list(zenpy.users.incremental(start_time=0))
        organizations = list(zenpy.organizations.incremental(start_time=0))
    assert personas.bob.pk in {u.id for u in users}
    events = list(
        zenpy.tickets.events(start_time=int(start.timestamp()), include=["comment_events"])
    )
    assert {e.ticket_id for e in events} == {t.pk for t in tickets}
    comments = [c for e in events for c in e.child_events if c["event_type"] == "Comment"]
    assert len(comments) == 5
    assert {o.id for o in organizations} == {personas.acme.pk, personas.globex.pk}


def test_zenpy_rates_a_solved_ticket_and_reads_the_rating(personas, zenpy_for):
    ticket = make_ticket(personas.bob, "打印机")
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="solved"))
    rating = zenpy_for(personas.bob).satisfaction_ratings.create(
        ticket.pk, SatisfactionRating(score="good", comment="谢谢")
    )
    assert (rating.score, rating.comment, rating.ticket_id) == ("good", "谢谢", ticket.pk)
    agent = zenpy_for(personas.alice)
    assert [r.id for r in agent.satisfaction_ratings()] == [rating.id]
    assert agent.tickets(id=ticket.pk).satisfaction_rating.score == "good"
