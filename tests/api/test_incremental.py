"""incremental/* over HTTP (admins only)."""

import datetime as dt

import pytest

from kefu.core import clock
from kefu.exports.incremental import unix_time
from kefu.tickets.actions import delete_ticket

from .conftest import make_ticket

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
START = unix_time(T0)


def ticket_at(personas, subject, seconds):  # type: ignore[no-untyped-def]
    with clock.frozen_at(T0 + dt.timedelta(seconds=seconds)):
        return make_ticket(personas.bob, subject)


def test_ticket_export_pages_with_after_url_and_shows_deleted(
    personas, api, django_assert_max_num_queries
):
    tickets = [ticket_at(personas, f"t{n}", n) for n in range(3)]
    with clock.frozen_at(T0 + dt.timedelta(seconds=5)):
        delete_ticket(tickets[0], actor=personas.alice)
    client = api(personas.admin)
    with clock.frozen_at(T0 + dt.timedelta(seconds=10)):
        with django_assert_max_num_queries(15):
            first = client.get(
                f"incremental/tickets/cursor.json?start_time={START}&per_page=2"
            ).json()
        assert [t["id"] for t in first["tickets"]] == [tickets[1].pk, tickets[2].pk]
        assert first["end_of_stream"] is False
        assert first["after_url"].startswith(
            "http://testserver/api/v2/incremental/tickets/cursor.json?cursor="
        )
        rest = client.get(first["after_url"].replace("http://testserver/api/v2/", "")).json()
    assert [(t["id"], t["status"]) for t in rest["tickets"]] == [(tickets[0].pk, "deleted")]
    assert rest["end_of_stream"] is True and rest["after_cursor"]


def test_user_export(personas, api):
    with clock.frozen_at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)):
        body = api(personas.admin).get("incremental/users/cursor?start_time=0").json()
    assert {u["id"] for u in body["users"]} >= {personas.bob.pk, personas.carol.pk}
    assert body["end_of_stream"] is True


def test_organization_export_is_time_based(personas, api):
    with clock.frozen_at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)):
        body = api(personas.admin).get("incremental/organizations?start_time=0").json()
    assert [o["id"] for o in body["organizations"]] == [personas.acme.pk, personas.globex.pk]
    assert body["count"] == 2 and body["end_of_stream"] is True
    assert body["next_page"].endswith(
        f"incremental/organizations.json?start_time={body['end_time']}"
    )


def test_ticket_events_with_comment_events(personas, api):
    ticket = ticket_at(personas, "打印机", 0)
    client = api(personas.admin)
    with clock.frozen_at(T0 + dt.timedelta(seconds=10)):
        bare = client.get(f"incremental/ticket_events?start_time={START}").json()
        full = client.get(
            f"incremental/ticket_events?start_time={START}&include=comment_events"
        ).json()
    (event,) = bare["ticket_events"]
    assert event["ticket_id"] == ticket.pk and event["event_type"] == "Audit"
    assert all(c["event_type"] != "Comment" for c in event["child_events"])
    comments = [c for c in full["ticket_events"][0]["child_events"] if c["event_type"] == "Comment"]
    assert comments[0]["body"] == "打印机: please help"
    assert "include=comment_events" in full["next_page"]


def test_exports_are_for_admins_and_bad_start_times_are_named(personas, api):
    assert api(personas.alice).get("incremental/tickets/cursor?start_time=0").status_code == 403
    assert api(personas.bob).get("incremental/ticket_events?start_time=0").status_code == 403
    client = api(personas.admin)
    bad = client.get("incremental/tickets/cursor?start_time=soon")
    assert bad.status_code == 422 and "start_time" in bad.json()["details"]
    assert client.get("incremental/organizations").status_code == 422
    assert client.get("incremental/users/cursor?cursor=garbage").status_code == 422
