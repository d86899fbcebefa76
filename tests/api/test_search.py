"""search, search/count and search/export over HTTP."""

import pytest

from kefu.tickets.actions import add_comment

from .conftest import make_ticket

pytestmark = pytest.mark.django_db


def test_search_returns_mixed_results_with_result_type(
    personas, api, django_assert_max_num_queries
):
    ticket = make_ticket(personas.bob, "申请退款被拒绝")
    client = api(personas.alice)
    with django_assert_max_num_queries(20):
        body = client.get("search.json?query=退款").json()
    assert body["count"] == 1 and body["facets"] is None
    assert [(r["result_type"], r["id"]) for r in body["results"]] == [("ticket", ticket.pk)]
    assert body["results"][0]["subject"] == "申请退款被拒绝"
    people = client.get("search?query=acme").json()["results"]
    assert {r["result_type"] for r in people} == {"user", "organization"}


def test_search_pages_have_absolute_links_and_stop_at_1000(personas, api):
    for n in range(5):
        make_ticket(personas.bob, f"批量 {n}")
    client = api(personas.alice)
    first = client.get(
        "search?query=type:ticket 批量&per_page=2&sort_by=created_at&sort_order=asc"
    ).json()
    assert first["count"] == 5 and len(first["results"]) == 2
    assert first["next_page"].startswith("http://testserver/api/v2/search?")
    assert "page=2" in first["next_page"] and first["previous_page"] is None
    last = client.get("search?query=type:ticket 批量&per_page=2&page=3").json()
    assert len(last["results"]) == 1 and last["next_page"] is None
    too_far = client.get("search?query=批量&per_page=100&page=11")
    assert too_far.status_code == 422
    assert too_far.json()["error"] == "invalid" and "1000" in too_far.json()["description"]


def test_bad_queries_answer_422_with_the_reason(personas, api):
    response = api(personas.alice).get("search?query=status:weird")
    assert response.status_code == 422
    assert "status" in response.json()["description"]
    assert api(personas.alice).get("search?query=x&sort_by=colour").status_code == 422


def test_bob_never_finds_carols_tickets_or_internal_notes(personas, api):
    bobs = make_ticket(personas.bob, "退款 Bob")
    make_ticket(personas.carol, "退款 Carol")
    add_comment(bobs, actor=personas.alice, body="内部备注 secret", public=False)
    client = api(personas.bob)
    assert [r["id"] for r in client.get("search?query=退款").json()["results"]] == [bobs.pk]
    assert client.get("search?query=secret").json()["results"] == []
    assert client.get("search/count?query=type:ticket").json() == {"count": 1}


def test_search_count(personas, api):
    make_ticket(personas.bob, "a", priority="high")
    make_ticket(personas.bob, "b", priority="low")
    assert api(personas.alice).get("search/count.json?query=priority>normal").json() == {"count": 1}


def test_search_export_walks_with_a_cursor(personas, api):
    tickets = [make_ticket(personas.bob, f"导出 {n}") for n in range(3)]
    client = api(personas.alice)
    first = client.get("search/export?query=导出&filter[type]=ticket&page[size]=2").json()
    assert [r["id"] for r in first["results"]] == [t.pk for t in tickets[:2]]
    assert first["meta"]["has_more"] and first["links"]["next"].startswith("http://testserver/")
    rest = client.get(first["links"]["next"].replace("http://testserver/api/v2/", "")).json()
    assert [r["id"] for r in rest["results"]] == [tickets[2].pk]
    assert rest["meta"]["has_more"] is False and rest["links"]["next"] is None
    assert client.get("search/export?query=导出").status_code == 400
    assert client.get("search/export?query=导出&filter[type]=ticketz").status_code == 422
