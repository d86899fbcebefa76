"""``POST tickets`` answers ``{ticket, audit}`` from what the action wrote, without reading
it back: the answer must stay what a read shows, and its statement count stays pinned."""

import pytest
from django.test import Client

from kefu.accounts import actions as accounts
from kefu.rules import actions as rules
from kefu.tickets import actions as tickets

pytestmark = pytest.mark.django_db


def _upload(user, name: str, content: bytes) -> str:  # type: ignore[no-untyped-def]
    _record, token = accounts.create_api_token(user=user)
    response = Client().post(
        f"/api/v2/uploads?filename={name}", data=content, content_type="application/binary",
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    return response.json()["upload"]["token"]


def _as_read(client, ticket_id: int) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    ticket = client.get(f"tickets/{ticket_id}").json()["ticket"]
    first_audit = client.get(f"tickets/{ticket_id}/audits").json()["audits"][0]
    return ticket, first_audit


def test_the_create_answer_is_what_a_read_shows(personas, api):
    # given a custom field, an upload, CCs and followers
    field = tickets.create_ticket_field(type="text", title="Order number")
    token = _upload(personas.alice, "发票.pdf", b"%PDF-1.4 hello")
    client = api(personas.alice)
    # when an agent opens a ticket with all of them
    response = client.post(
        "tickets",
        {"ticket": {
            "subject": "Invoice 发票", "requester_id": personas.bob.pk, "priority": "high",
            "tags": ["billing"], "custom_fields": [{"id": field.pk, "value": "A-1"}],
            "email_cc_ids": [personas.carol.pk], "follower_ids": [personas.alice.pk],
            "comment": {"body": "see attached", "public": False, "uploads": [token]},
        }},
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    # then the answer is what reading the ticket and its first audit gives
    ticket, audit = _as_read(client, body["ticket"]["id"])
    assert body["ticket"] == ticket
    assert body["audit"] == audit
    assert body["ticket"]["email_cc_ids"] == [personas.carol.pk]
    assert body["ticket"]["follower_ids"] == [personas.alice.pk]
    comment = next(e for e in body["audit"]["events"] if e["type"] == "Comment")
    assert [a["file_name"] for a in comment["attachments"]] == ["发票.pdf"]


def test_the_create_answer_shows_what_a_trigger_changed(personas, api):
    # given a trigger that tags and prioritizes every new ticket
    rules.create_trigger(
        actor=personas.admin,
        title="Tag new tickets",
        conditions={"all": [{"field": "update_type", "operator": "is", "value": "Create"}]},
        actions=[
            {"field": "current_tags", "value": "triaged"},
            {"field": "priority", "value": "urgent"},
        ],
    )
    client = api(personas.bob)
    # when a customer opens a ticket
    response = client.post(
        "tickets", {"ticket": {"subject": "Help", "comment": {"body": "It broke"}}}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    # then the answer has the trigger's changes, as a read does
    assert "triaged" in body["ticket"]["tags"]
    assert body["ticket"]["priority"] == "urgent"
    ticket, audit = _as_read(client, body["ticket"]["id"])
    assert body["ticket"] == ticket
    assert body["audit"] == audit


def test_the_create_answer_to_a_customer_shows_only_public_events(personas, api):
    client = api(personas.bob)
    response = client.post(
        "tickets", {"ticket": {"subject": "Help", "comment": {"body": "It broke"}}}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket, audit = _as_read(client, body["ticket"]["id"])
    assert body["ticket"] == ticket
    assert body["audit"] == audit
    assert {e["type"] for e in body["audit"]["events"]} <= {"Create", "Comment"}


def test_creating_a_ticket_over_the_api_costs_a_bounded_number_of_statements(
    personas, api, django_assert_max_num_queries
):
    client = api(personas.alice)
    payload = {"ticket": {"subject": "Printer", "requester_id": personas.bob.pk,
                          "comment": {"body": "It smokes"}, "tags": ["printer"]}}  # fmt: skip
    assert client.post("tickets", payload).status_code == 201  # warm: configuration caches
    # Auth, the requester, one configuration fingerprint, the organization, the ticket's rows,
    # the hooks (SLA, the customer's email) and the answer's events: 32 here (was 45 before
    # the configuration cache and the answer built from what was written).
    with django_assert_max_num_queries(32):
        assert client.post("tickets", payload).status_code == 201
