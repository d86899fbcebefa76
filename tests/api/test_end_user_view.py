"""What the API shows an end user of their own ticket: what the portal shows, nothing of the
agents' side (internal fields, notifications sent to agents, SLA state)."""

import pytest

from kefu.rules import actions as rules
from kefu.tickets.actions import create_ticket_field

pytestmark = pytest.mark.django_db


def test_an_end_user_sees_neither_agents_notifications_nor_internal_fields_nor_slas(personas, api):
    internal = create_ticket_field(type="text", title="Root cause", visible_in_portal=False)
    shared = create_ticket_field(type="text", title="Order number", visible_in_portal=True)
    rules.create_trigger(
        actor=personas.admin,
        title="Tell the agents",
        conditions={"all": [{"field": "update_type", "operator": "is", "value": "Create"}],
                    "any": []},
        actions=[{"field": "notification_group",
                  "value": [str(personas.support.pk), "New ticket", "{{ticket.title}}"]}],
    )  # fmt: skip

    bob = api(personas.bob)
    created = bob.post(
        "tickets", {"ticket": {"subject": "Broken", "comment": {"body": "help"}}}
    ).json()
    types = {e["type"] for e in created["audit"]["events"]}
    assert "Comment" in types and "Notification" not in types
    field_ids = {f["id"] for f in created["ticket"]["custom_fields"]}
    assert shared.pk in field_ids and internal.pk not in field_ids

    ticket_id = created["ticket"]["id"]
    shown = bob.get(f"tickets/{ticket_id}?include=slas").json()["ticket"]
    assert "slas" not in shown
    audits = bob.get(f"tickets/{ticket_id}/audits").json()["audits"]
    assert all(e["type"] != "Notification" for a in audits for e in a["events"])

    # the agent sees all of it
    alice = api(personas.alice)
    agent_view = alice.get(f"tickets/{ticket_id}?include=slas").json()["ticket"]
    assert "slas" in agent_view
    assert internal.pk in {f["id"] for f in agent_view["custom_fields"]}
    agent_audits = alice.get(f"tickets/{ticket_id}/audits").json()["audits"]
    assert any(e["type"] == "Notification" for a in agent_audits for e in a["events"])
