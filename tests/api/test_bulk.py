"""Bulk ticket requests run as jobs; job_statuses report per-item results."""

import pytest

from kefu.tickets.models import Ticket

from .conftest import make_ticket

pytestmark = pytest.mark.django_db


def _job(client, response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.json()
    job_id = response.json()["job_status"]["id"]
    return client.get(f"job_statuses/{job_id}.json").json()["job_status"]


def test_create_many_creates_each_ticket_and_reports_bad_items(
    personas, api, django_capture_on_commit_callbacks
):
    client = api(personas.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "tickets/create_many",
            {
                "tickets": [
                    {"subject": "One", "comment": {"body": "1"}, "requester_id": personas.bob.pk},
                    {"subject": "Two", "comment": {"body": "2"}, "priority": "nope",
                     "requester_id": personas.bob.pk},
                    {"subject": "Three", "comment": {"body": "3"},
                     "requester_id": personas.carol.pk},
                ]
            },
        )  # fmt: skip
    job = _job(client, response)
    assert job["status"] == "completed"
    assert job["total"] == job["progress"] == 3
    assert [r["index"] for r in job["results"]] == [0, 1, 2]
    assert job["results"][0]["id"] == Ticket.objects.get(subject="One").pk
    assert job["results"][1]["error"] == "RecordInvalid"
    assert "priority" in job["results"][1]["details"]
    assert Ticket.objects.count() == 2


def test_update_many_with_ids_applies_the_same_change(
    personas, api, django_capture_on_commit_callbacks
):
    one, two = make_ticket(personas.bob, "1"), make_ticket(personas.bob, "2")
    client = api(personas.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(
            f"tickets/update_many.json?ids={one.pk},{two.pk}",
            {"ticket": {"priority": "high", "additional_tags": ["bulk"]}},
        )
    job = _job(client, response)
    assert [r["status"] for r in job["results"]] == ["Updated", "Updated"]
    for ticket in (one, two):
        ticket.refresh_from_db()
        assert ticket.priority == "high"
        assert "bulk" in ticket.tags


def test_update_many_with_a_list_changes_each_ticket_its_own_way(
    personas, api, django_capture_on_commit_callbacks
):
    one, two = make_ticket(personas.bob, "1"), make_ticket(personas.bob, "2")
    client = api(personas.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.put(
            "tickets/update_many",
            {"tickets": [{"id": one.pk, "priority": "low"}, {"id": two.pk, "priority": "urgent"},
                         {"id": 999999, "priority": "low"}]},
        )  # fmt: skip
    job = _job(client, response)
    assert [r.get("success") for r in job["results"]] == [True, True, False]
    assert job["results"][2]["error"] == "RecordNotFound"
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.priority, two.priority) == ("low", "urgent")


def test_destroy_many_deletes_visible_tickets(personas, api, django_capture_on_commit_callbacks):
    one, two = make_ticket(personas.bob, "1"), make_ticket(personas.bob, "2")
    client = api(personas.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"tickets/destroy_many?ids={one.pk},{two.pk}")
    job = _job(client, response)
    assert [r["status"] for r in job["results"]] == ["Deleted", "Deleted"]
    assert client.get("tickets").json()["count"] == 0


def test_someone_elses_job_status_is_not_found(personas, api, django_capture_on_commit_callbacks):
    ticket = make_ticket(personas.bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(personas.alice).delete(f"tickets/destroy_many?ids={ticket.pk}")
    job_id = response.json()["job_status"]["id"]
    assert api(personas.bob).get(f"job_statuses/{job_id}").status_code == 404
    assert api(personas.admin).get(f"job_statuses/{job_id}").status_code == 200
