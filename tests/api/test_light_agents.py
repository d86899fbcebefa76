"""Light agents through the API: they read tickets and add internal notes; every other write
is refused with Zendesk's 403 body and changes nothing."""

import pytest

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.crm import actions as crm
from kefu.tickets.actions import TicketData, update_ticket
from kefu.tickets.models import Comment, Ticket

from .conftest import make_ticket


@pytest.fixture
def lee(personas):  # type: ignore[no-untyped-def]
    return accounts.create_user(name="Lee 李", email="lee@kefu.test", role=Role.LIGHT_AGENT,
                                groups=[personas.support])  # fmt: skip


def test_light_agents_read_and_note_but_change_nothing_else(api, personas, lee):
    ticket = make_ticket(personas.bob)
    update_ticket(ticket, actor=personas.alice, data=TicketData(group=personas.support))
    client = api(lee)
    assert client.get(f"tickets/{ticket.pk}").status_code == 200
    note = {"ticket": {"comment": {"body": "Warehouse: ships Monday", "public": False}}}
    assert client.put(f"tickets/{ticket.pk}", note).status_code == 200
    assert Comment.objects.filter(ticket=ticket, public=False).count() == 1

    tickets_before, comments_before = Ticket.objects.count(), Comment.objects.count()
    new_ticket = {"subject": "x", "comment": {"body": "y"}, "requester_id": personas.bob.pk}
    refused = [
        client.post("tickets", {"ticket": new_ticket}),
        client.put(f"tickets/{ticket.pk}", {"ticket": {"priority": "urgent"}}),
        client.put(f"tickets/{ticket.pk}", {"ticket": {"comment": {"body": "Hi", "public": True}}}),
        client.delete(f"tickets/{ticket.pk}"),
        client.put(f"users/{personas.bob.pk}", {"user": {"name": "Robert"}}),
        client.delete(f"users/{personas.bob.pk}"),
        client.post("users", {"user": {"name": "New", "email": "new@kefu.test"}}),
        client.post("organizations", {"organization": {"name": "Acme 2"}}),
    ]
    for response in refused:
        assert response.status_code == 403, response.content
        assert response.json()["error"] == "Forbidden"
    assert (Ticket.objects.count(), Comment.objects.count()) == (tickets_before, comments_before)
    ticket.refresh_from_db()
    personas.bob.refresh_from_db()
    assert ticket.priority is None and ticket.deleted_at is None
    assert personas.bob.name != "Robert" and personas.bob.is_active
    org = crm.create_organization(name="Acme 3")
    response = client.put(f"organizations/{org.pk}", {"organization": {"name": "Nope"}})
    assert response.status_code == 403
    org.refresh_from_db()
    assert org.name == "Acme 3"
