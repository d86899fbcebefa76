"""The rules API: Zendesk's triggers, trigger_categories, automations and webhooks shapes,
422 naming the field, 403 for non-admins; Kefu's notifications, routing and child tasks."""

import pytest
from django.core.cache import cache

from kefu.accounts import actions as accounts
from kefu.rules.models import Notification, Trigger, Webhook
from kefu.tickets.actions import NewComment, TicketData, create_ticket, update_ticket
from tests.api.conftest import ApiClient

CREATE = {"all": [{"field": "update_type", "operator": "is", "value": "Create"}], "any": []}


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def admin_api(personas) -> ApiClient:  # type: ignore[no-untyped-def]
    return ApiClient(personas.admin)


def test_a_trigger_created_through_the_api_acts_on_new_tickets(personas, admin_api):
    response = admin_api.post(
        "triggers.json",
        {"trigger": {"title": "Urgent refunds", "conditions": CREATE,
                     "actions": [{"field": "priority", "value": "urgent"}]}},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()["trigger"]
    assert body["title"] == "Urgent refunds" and body["active"] is True
    assert body["conditions"] == CREATE
    assert body["actions"] == [{"field": "priority", "value": "urgent"}]
    assert body["url"].endswith(f"/api/v2/triggers/{body['id']}.json")
    assert isinstance(body["category_id"], int) and body["position"] == 1
    ticket = create_ticket(actor=personas.bob, data=TicketData(subject="s"),
                           comment=NewComment(body="b"))  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"


def test_a_bad_trigger_is_a_422_naming_the_field(personas, admin_api):
    response = admin_api.post(
        "triggers",
        {"trigger": {"title": "t",
                     "conditions": {"all": [{"field": "colour", "operator": "is", "value": 1}]},
                     "actions": [{"field": "explode", "value": True}]}},
    )  # fmt: skip
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "RecordInvalid"
    assert "Unknown field: colour" in body["details"]["conditions"][0]["description"]
    assert not Trigger.objects.exists()


def test_listing_updating_reordering_and_deleting_triggers(personas, admin_api):
    ids = []
    for title in ("first", "second"):
        response = admin_api.post("triggers", {"trigger": {
            "title": title, "conditions": CREATE,
            "actions": [{"field": "current_tags", "value": title}]}})  # fmt: skip
        ids.append(response.json()["trigger"]["id"])
    listed = admin_api.get("triggers").json()
    assert [t["title"] for t in listed["triggers"]] == ["first", "second"]
    assert listed["count"] == 2
    response = admin_api.put(f"triggers/{ids[0]}", {"trigger": {"active": False}})
    assert response.json()["trigger"]["active"] is False
    assert [t["id"] for t in admin_api.get("triggers/active").json()["triggers"]] == [ids[1]]
    assert admin_api.put("triggers/reorder", {"trigger_ids": [ids[1], ids[0]]}).status_code == 200
    assert [t["id"] for t in admin_api.get("triggers").json()["triggers"]] == [ids[1], ids[0]]
    assert admin_api.delete(f"triggers/{ids[0]}").status_code == 204
    assert admin_api.get(f"triggers/{ids[0]}").status_code == 404


def test_trigger_categories(personas, admin_api):
    response = admin_api.post("trigger_categories",
                              {"trigger_category": {"name": "VIP", "position": 0}})  # fmt: skip
    assert response.status_code == 201
    category = response.json()["trigger_category"]
    created = admin_api.post("triggers", {"trigger": {
        "title": "vip", "category_id": str(category["id"]), "conditions": CREATE,
        "actions": [{"field": "priority", "value": "high"}]}})  # fmt: skip
    assert created.json()["trigger"]["category_id"] == category["id"]
    # a category with triggers cannot be deleted
    assert admin_api.delete(f"trigger_categories/{category['id']}").status_code == 422
    names = [c["name"] for c in admin_api.get("trigger_categories").json()["trigger_categories"]]
    assert names == ["VIP"]


def test_agents_and_customers_cannot_manage_rules(personas):
    assert ApiClient(personas.alice).get("triggers").status_code == 403
    assert ApiClient(personas.bob).post("automations", {"automation": {}}).status_code == 403
    assert ApiClient(personas.alice).get("webhooks").status_code == 403


def test_an_automation_without_a_nullifying_condition_is_a_422(personas, admin_api):
    response = admin_api.post("automations", {"automation": {
        "title": "forever",
        "conditions": {"all": [{"field": "NEW", "operator": "greater_than", "value": 24}]},
        "actions": [{"field": "priority", "value": "high"}]}})  # fmt: skip
    assert response.status_code == 422
    assert "makes false" in response.json()["details"]["conditions"][0]["description"]
    ok = admin_api.post("automations", {"automation": {
        "title": "Close stale pending",
        "conditions": {"all": [{"field": "PENDING", "operator": "greater_than", "value": 96},
                               {"field": "status", "operator": "is", "value": "pending"}]},
        "actions": [{"field": "status", "value": "solved"}]}})  # fmt: skip
    assert ok.status_code == 201
    assert admin_api.get("automations").json()["automations"][0]["title"] == "Close stale pending"


def test_webhooks_keep_credentials_write_only_and_refuse_bad_urls(personas, admin_api):
    response = admin_api.post("webhooks", {"webhook": {
        "name": "Shop", "endpoint": "http://127.0.0.1:9/hook", "http_method": "POST",
        "request_format": "json", "status": "active",
        "subscriptions": ["conditional_ticket_events"],
        "authentication": {"type": "bearer_token", "data": {"token": "t0p"},
                           "add_position": "header"}}})  # fmt: skip
    assert response.status_code == 201, response.content
    hook = response.json()["webhook"]
    assert hook["authentication"] == {"type": "bearer_token", "add_position": "header"}
    assert "t0p" not in response.content.decode()
    secret = admin_api.get(f"webhooks/{hook['id']}/signing_secret").json()["signing_secret"]
    assert secret["secret"] == Webhook.objects.get().signing_secret
    bad = admin_api.post("webhooks", {"webhook": {"name": "x", "endpoint": "gopher://x"}})
    assert bad.status_code == 422 and "endpoint" in bad.json()["details"]
    assert admin_api.get(f"webhooks/{hook['id']}/invocations").json()["invocations"] == []


def test_notifications_are_listed_for_their_recipient_and_marked_read(personas):
    ticket = create_ticket(actor=personas.bob, data=TicketData(subject="s"),
                           comment=NewComment(body="b"))  # fmt: skip
    update_ticket(ticket, actor=personas.admin, data=TicketData(assignee=personas.alice))
    alice = ApiClient(personas.alice)
    [note] = alice.get("notifications?unread=true").json()["notifications"]
    assert note["kind"] == "assigned" and note["ticket_id"] == ticket.pk
    assert ApiClient(personas.admin).put(f"notifications/{note['id']}/read").status_code == 404
    assert alice.put(f"notifications/{note['id']}/read").json()["notification"]["read"] is True
    assert Notification.objects.get().read_at is not None


def test_routing_availability_and_child_tasks_through_the_api(personas, admin_api):
    alice = ApiClient(personas.alice)
    response = alice.put(f"agent_statuses/{personas.alice.pk}",
                         {"agent_status": {"availability": "online"}})  # fmt: skip
    assert response.json()["agent_status"]["availability"] == "online"
    response = admin_api.put(f"groups/{personas.support.pk}/routing",
                             {"routing": {"mode": "round_robin"}})  # fmt: skip
    assert response.json()["routing"]["mode"] == "round_robin"
    ticket = create_ticket(actor=personas.alice, data=TicketData(
        subject="s", requester=personas.bob), comment=NewComment(body="b"))  # fmt: skip
    response = alice.post(f"tickets/{ticket.pk}/child_tasks", {"child_task": {
        "group_id": personas.support.pk, "subject": "Ship a part", "body": "please"}})  # fmt: skip
    assert response.status_code == 201
    child = response.json()["child_task"]
    assert child["assignee_id"] == personas.alice.pk  # routed at once
    listed = alice.get(f"tickets/{ticket.pk}/child_tasks").json()["child_tasks"]
    assert [c["subject"] for c in listed] == ["Ship a part"]
    # Internal work: not even the requester sees it; another agent may not set alice's status.
    assert ApiClient(personas.bob).get(f"tickets/{ticket.pk}/child_tasks").status_code == 403
    assert ApiClient(personas.carol).get(f"tickets/{ticket.pk}/child_tasks").status_code == 403
    dan = accounts.create_user(name="Dan", email="dan@kefu.test", role="agent")
    refused = ApiClient(dan).put(f"agent_statuses/{personas.alice.pk}",
                                 {"agent_status": {"capacity": 1}})  # fmt: skip
    assert refused.status_code == 403
