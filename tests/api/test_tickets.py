"""The tickets resource over HTTP: happy paths, errors, permissions, query counts."""

import pytest

from kefu.tickets.models import Ticket

from .conftest import make_ticket

pytestmark = pytest.mark.django_db


def test_agent_creates_a_ticket_and_gets_ticket_and_audit(personas, api):
    response = api(personas.alice).post(
        "tickets.json",
        {
            "ticket": {
                "subject": "打印机坏了",
                "comment": {"body": "It smokes", "public": True},
                "requester_id": personas.bob.pk,
                "priority": "high",
                "tags": ["Printer", "vip"],
                "unknown_field": "ignored",
            }
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = body["ticket"]
    assert ticket["subject"] == ticket["raw_subject"] == "打印机坏了"
    assert ticket["description"] == "It smokes"
    assert ticket["requester_id"] == personas.bob.pk
    assert ticket["submitter_id"] == personas.alice.pk
    assert ticket["organization_id"] == personas.acme.pk
    assert ticket["priority"] == "high"
    assert ticket["status"] == "new"
    assert ticket["tags"] == ["printer", "vip"]
    assert ticket["via"]["channel"] == "api"
    assert ticket["url"] == f"http://testserver/api/v2/tickets/{ticket['id']}.json"
    assert len(ticket["created_at"]) == 20 and ticket["created_at"].endswith("Z")
    audit = body["audit"]
    assert audit["ticket_id"] == ticket["id"]
    assert audit["author_id"] == personas.alice.pk
    types = [e["type"] for e in audit["events"]]
    assert "Create" in types and "Comment" in types


def test_requester_object_finds_or_creates_the_end_user(personas, api):
    client = api(personas.alice)
    payload = {
        "ticket": {
            "subject": "New customer",
            "comment": {"body": "hello"},
            "requester": {"name": "Dora", "email": "Dora@Example.test"},
        }
    }
    first = client.post("tickets", payload).json()["ticket"]
    second = client.post("tickets", payload).json()["ticket"]
    assert first["requester_id"] == second["requester_id"]
    me = client.get(f"tickets/{first['id']}").json()["ticket"]
    assert me["requester_id"] == first["requester_id"]


def test_agent_updates_a_ticket_with_a_comment(personas, api):
    ticket = make_ticket(personas.bob)
    response = api(personas.alice).put(
        f"tickets/{ticket.pk}.json",
        {
            "ticket": {
                "status": "pending",
                "assignee_id": personas.alice.pk,
                "comment": {"body": "On it", "public": False},
            }
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["ticket"]["status"] == "pending"
    assert body["ticket"]["assignee_id"] == personas.alice.pk
    changes = {e["field_name"]: e for e in body["audit"]["events"] if e["type"] == "Change"}
    assert changes["status"]["previous_value"] == "new"
    comment = next(e for e in body["audit"]["events"] if e["type"] == "Comment")
    assert comment["public"] is False
    assert comment["body"] == "On it"


def test_bob_cannot_read_carols_ticket(personas, api):
    ticket = make_ticket(personas.carol)
    response = api(personas.bob).get(f"tickets/{ticket.pk}")
    assert response.status_code == 404
    assert api(personas.carol).get(f"tickets/{ticket.pk}").status_code == 200
    assert api(personas.bob).put(f"tickets/{ticket.pk}", {"ticket": {}}).status_code == 404


def test_end_user_lists_only_their_own_tickets(personas, api):
    mine = make_ticket(personas.bob, "Mine")
    make_ticket(personas.carol, "Carol's")
    listed = api(personas.bob).get("tickets").json()
    assert [t["id"] for t in listed["tickets"]] == [mine.pk]
    assert listed["count"] == 1


def test_end_user_opens_a_request_for_themselves(personas, api):
    response = api(personas.bob).post(
        "tickets", {"ticket": {"subject": "Help", "comment": {"body": "please"}}}
    )
    assert response.status_code == 201
    assert response.json()["ticket"]["requester_id"] == personas.bob.pk


def test_invalid_status_names_the_field_and_writes_nothing(personas, api):
    response = api(personas.alice).post(
        "tickets",
        {
            "ticket": {
                "subject": "x",
                "comment": {"body": "y"},
                "requester": {"email": "new-person@example.test"},
                "status": "exploded",
            }
        },
    )
    assert response.status_code == 422
    assert "status" in response.json()["details"]
    assert Ticket.objects.count() == 0
    from kefu.accounts.models import User

    assert not User.objects.filter(email="new-person@example.test").exists()


def test_listing_tickets_takes_a_fixed_number_of_queries(
    personas, api, django_assert_max_num_queries
):
    for n in range(30):
        make_ticket(personas.bob, f"T{n}")
    client = api(personas.alice)
    client.get("tickets")  # warm the token's last_used_at write
    with django_assert_max_num_queries(10):
        response = client.get("tickets?per_page=30")
    assert len(response.json()["tickets"]) == 30


@pytest.mark.parametrize(("viewer", "statements"), [("admin", 5), ("alice", 6), ("bob", 6)])
def test_showing_a_ticket_takes_a_fixed_number_of_statements(
    personas, api, viewer, statements, django_assert_num_queries
):
    """The token, the ticket through the viewer's scope, its CCs and followers (one
    statement), the ticket fields' fingerprint and the satisfaction rating; an agent's scope
    reads their groups first, an end user's their organization's sharing."""
    ticket = make_ticket(personas.bob)
    ticket.email_ccs.add(personas.carol)
    ticket.followers.add(personas.alice)
    client = api(getattr(personas, viewer))
    client.get("tickets")  # warm the token's last_used_at write
    with django_assert_num_queries(statements):
        shown = client.get(f"tickets/{ticket.pk}.json").json()["ticket"]
    assert shown["email_cc_ids"] == shown["collaborator_ids"] == [personas.carol.pk]
    assert shown["follower_ids"] == [personas.alice.pk]


def test_a_cursor_page_of_tickets_takes_five_statements(personas, api, django_assert_num_queries):
    for n in range(30):
        make_ticket(personas.bob, f"T{n}").followers.add(personas.alice)
    client = api(personas.admin)
    client.get("tickets")  # warm the token's last_used_at write
    with django_assert_num_queries(5):
        page = client.get("tickets.json?page[size]=25").json()
    assert len(page["tickets"]) == 25 and page["meta"]["has_more"]
    assert all(t["follower_ids"] == [personas.alice.pk] for t in page["tickets"])


def test_show_many_returns_only_visible_tickets(personas, api):
    bobs = make_ticket(personas.bob, "Bob's")
    carols = make_ticket(personas.carol, "Carol's")
    shown = api(personas.bob).get(f"tickets/show_many.json?ids={bobs.pk},{carols.pk}").json()
    assert [t["id"] for t in shown["tickets"]] == [bobs.pk]
    assert api(personas.bob).get("tickets/show_many?ids=a,b").status_code == 400


def test_agent_deletes_a_ticket_and_it_is_gone(personas, api):
    ticket = make_ticket(personas.bob)
    client = api(personas.alice)
    assert api(personas.bob).delete(f"tickets/{ticket.pk}").status_code == 403
    assert client.delete(f"tickets/{ticket.pk}.json").status_code == 204
    assert client.get(f"tickets/{ticket.pk}").status_code == 404


def test_comments_hide_internal_notes_from_the_requester(personas, api):
    ticket = make_ticket(personas.bob)
    client = api(personas.alice)
    client.put(f"tickets/{ticket.pk}", {"ticket": {"comment": {"body": "secret", "public": False}}})
    client.put(f"tickets/{ticket.pk}", {"ticket": {"comment": {"body": "Hello Bob"}}})
    agent_view = client.get(f"tickets/{ticket.pk}/comments").json()["comments"]
    assert [c["body"] for c in agent_view] == [
        "Printer on fire: please help",
        "secret",
        "Hello Bob",
    ]
    assert all(c["audit_id"] for c in agent_view)
    bob_view = api(personas.bob).get(f"tickets/{ticket.pk}/comments").json()["comments"]
    assert [c["body"] for c in bob_view] == ["Printer on fire: please help", "Hello Bob"]
    assert api(personas.carol).get(f"tickets/{ticket.pk}/comments").status_code == 404


def test_audits_list_create_change_and_comment_events(personas, api):
    ticket = make_ticket(personas.bob)
    client = api(personas.alice)
    client.put(f"tickets/{ticket.pk}", {"ticket": {"priority": "urgent"}})
    audits = client.get(f"tickets/{ticket.pk}/audits.json").json()["audits"]
    assert len(audits) == 2
    assert {"Create", "Comment"} <= {e["type"] for e in audits[0]["events"]}
    change = audits[1]["events"][0]
    assert change == {
        "id": change["id"], "type": "Change", "field_name": "priority", "value": "urgent",
        "previous_value": None,
    }  # fmt: skip


def test_end_user_replies_to_their_own_request(personas, api):
    ticket = make_ticket(personas.bob)
    response = api(personas.bob).put(
        f"tickets/{ticket.pk}", {"ticket": {"comment": {"body": "Any news?"}}}
    )
    assert response.status_code == 200
    assert response.json()["audit"]["events"][0]["author_id"] == personas.bob.pk


def test_comment_and_audit_lists_take_a_fixed_number_of_queries(
    personas, api, django_assert_max_num_queries
):
    ticket = make_ticket(personas.bob)
    client = api(personas.alice)
    for n in range(10):
        client.put(f"tickets/{ticket.pk}", {"ticket": {"comment": {"body": f"reply {n}"}}})
    with django_assert_max_num_queries(10):
        assert len(client.get(f"tickets/{ticket.pk}/comments").json()["comments"]) == 11
    with django_assert_max_num_queries(12):
        assert len(client.get(f"tickets/{ticket.pk}/audits").json()["audits"]) == 11
