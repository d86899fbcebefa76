"""The triggers pages of the admin settings: create a trigger in the UI and see it act,
bad JSON and bad rules shown next to their fields, reorder, admins only."""

import json

from django.test import Client
from django.urls import reverse

from kefu.rules.models import Trigger
from kefu.tickets.actions import NewComment, TicketData, create_ticket


def admin_client(p) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(p.admin)
    return client


def test_a_trigger_created_in_the_admin_ui_acts_on_the_next_ticket(personas):
    client = admin_client(personas)
    assert client.get(reverse("rules:new_trigger")).status_code == 200
    response = client.post(
        reverse("rules:new_trigger"),
        {
            "title": "Refunds are urgent / 退款加急",
            "conditions": json.dumps(
                {"all": [{"field": "subject", "operator": "includes", "value": "退款"}]}
            ),
            "actions": json.dumps([{"field": "priority", "value": "urgent"}]),
            "active": "on",
        },
    )
    assert response.status_code == 302
    listing = client.get(reverse("rules:triggers"))
    assert "Refunds are urgent / 退款加急" in listing.content.decode()
    ticket = create_ticket(
        actor=personas.bob, data=TicketData(subject="申请退款"), comment=NewComment(body="b")
    )
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"


def test_a_bad_rule_is_shown_next_to_its_field_and_nothing_is_saved(personas):
    client = admin_client(personas)
    response = client.post(
        reverse("rules:new_trigger"),
        {
            "title": "Broken",
            "conditions": json.dumps({"all": [{"field": "colour", "operator": "is", "value": 1}]}),
            "actions": "[not json",
        },
    )
    assert response.status_code == 400
    assert "This is not valid JSON" in response.content.decode()
    response = client.post(
        reverse("rules:new_trigger"),
        {
            "title": "Broken",
            "conditions": json.dumps({"all": [{"field": "colour", "operator": "is", "value": 1}]}),
            "actions": json.dumps([{"field": "priority", "value": "low"}]),
        },
    )
    assert response.status_code == 400
    assert "Unknown field: colour" in response.content.decode()
    assert not Trigger.objects.exists()


def test_moving_a_trigger_up_changes_the_run_order(personas):
    from kefu.rules import actions as rules

    create = {"all": [{"field": "update_type", "operator": "is", "value": "Create"}]}
    first = rules.create_trigger(actor=personas.admin, title="first", conditions=create,
                                 actions=[{"field": "priority", "value": "low"}])  # fmt: skip
    second = rules.create_trigger(actor=personas.admin, title="second", conditions=create,
                                  actions=[{"field": "priority", "value": "high"}])  # fmt: skip
    client = admin_client(personas)
    client.post(reverse("rules:move_trigger", args=[second.pk, "up"]))
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.position < first.position


def test_agents_cannot_open_the_triggers_pages(personas):
    client = Client()
    client.force_login(personas.alice)
    assert client.get(reverse("rules:triggers")).status_code == 403
