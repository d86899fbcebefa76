"""Satisfaction ratings over HTTP."""

import pytest

from kefu.tickets.actions import TicketData, update_ticket

from .conftest import make_ticket

pytestmark = pytest.mark.django_db


def solved(personas, requester=None):  # type: ignore[no-untyped-def]
    ticket = make_ticket(requester or personas.bob, "打印机")
    return update_ticket(ticket, actor=personas.alice, data=TicketData(status="solved"))


def test_requester_rates_and_the_ticket_shows_it(personas, api):
    ticket = solved(personas)
    response = api(personas.bob).post(
        f"tickets/{ticket.pk}/satisfaction_rating.json",
        {"satisfaction_rating": {"score": "good", "comment": "很满意"}},
    )
    assert response.status_code == 200, response.json()
    rating = response.json()["satisfaction_rating"]
    assert (rating["score"], rating["comment"], rating["ticket_id"]) == (
        "good",
        "很满意",
        ticket.pk,
    )
    assert rating["assignee_id"] == personas.alice.pk
    shown = api(personas.alice).get(f"tickets/{ticket.pk}").json()["ticket"]["satisfaction_rating"]
    assert shown == {"id": rating["id"], "score": "good", "comment": "很满意", "reason": ""}
    assert (
        api(personas.alice)
        .get(f"satisfaction_ratings/{rating['id']}")
        .json()["satisfaction_rating"]["score"]
        == "good"
    )


def test_rating_refusals(personas, api):
    ticket = solved(personas)
    assert (
        api(personas.alice)
        .post(
            f"tickets/{ticket.pk}/satisfaction_rating", {"satisfaction_rating": {"score": "good"}}
        )
        .status_code
        == 403
    )
    assert (
        api(personas.carol)
        .post(
            f"tickets/{ticket.pk}/satisfaction_rating", {"satisfaction_rating": {"score": "good"}}
        )
        .status_code
        == 404
    )
    bad = api(personas.bob).post(
        f"tickets/{ticket.pk}/satisfaction_rating", {"satisfaction_rating": {"score": "great"}}
    )
    assert bad.status_code == 422 and "score" in bad.json()["details"]
    open_ticket = make_ticket(personas.bob, "still open")
    not_solved = api(personas.bob).post(
        f"tickets/{open_ticket.pk}/satisfaction_rating", {"satisfaction_rating": {"score": "bad"}}
    )
    assert not_solved.status_code == 422 and "ticket_id" in not_solved.json()["details"]


def test_listing_filters_by_score_and_time(personas, api, django_assert_max_num_queries):
    client = api(personas.bob)
    for n in range(3):
        t = solved(personas)
        client.post(
            f"tickets/{t.pk}/satisfaction_rating",
            {
                "satisfaction_rating": {
                    "score": "good" if n else "bad",
                    "comment": "ok" if n == 2 else "",
                }
            },
        )
    carols = solved(personas, personas.carol)
    api(personas.carol).post(
        f"tickets/{carols.pk}/satisfaction_rating", {"satisfaction_rating": {"score": "bad"}}
    )
    agent = api(personas.admin)
    with django_assert_max_num_queries(10):
        everything = agent.get("satisfaction_ratings").json()
    assert everything["count"] == 4
    assert len(agent.get("satisfaction_ratings?score=bad").json()["satisfaction_ratings"]) == 2
    assert (
        len(
            agent.get("satisfaction_ratings?score=good_with_comment").json()["satisfaction_ratings"]
        )
        == 1
    )
    assert (
        agent.get("satisfaction_ratings?start_time=4102444800").json()["satisfaction_ratings"] == []
    )
    assert agent.get("satisfaction_ratings?score=meh").status_code == 422
    assert len(client.get("satisfaction_ratings").json()["satisfaction_ratings"]) == 3
