"""The triggers and automations pages of the admin settings: create a rule with the builder
(rows of field → operator → value) and see it act, errors shown next to the row at fault in
the user's language with the input kept, the JSON fallback, reorder, admins only."""

import json
import re

from django.test import Client
from django.urls import reverse

from kefu.accounts.models import Group
from kefu.rules.models import Automation, Trigger
from kefu.tickets.actions import NewComment, TicketData, create_ticket


def admin_client(p) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(p.admin)
    return client


REFUND_RULE = {
    "title": "Refunds are urgent / 退款加急",
    "active": "on",
    "all-a1-field": "update_type",
    "all-a1-operator": "is",
    "all-a1-value": "Create",
    "all-a2-field": "subject",
    "all-a2-operator": "includes",
    "all-a2-value": "退款",
    "actions-b1-field": "priority",
    "actions-b1-value": "urgent",
    "actions-b2-field": "current_tags",
    "actions-b2-value": "refund",
}


def test_a_trigger_built_with_rows_in_the_admin_ui_acts_on_the_next_ticket(personas):
    client = admin_client(personas)
    page = client.get(reverse("rules:new_trigger"))
    assert page.status_code == 200
    assert "Meet ALL of the following conditions" in page.content.decode()
    response = client.post(reverse("rules:new_trigger"), REFUND_RULE)
    assert response.status_code == 302
    trigger = Trigger.objects.get()
    assert trigger.conditions["all"] == [
        {"field": "update_type", "operator": "is", "value": "Create"},
        {"field": "subject", "operator": "includes", "value": "退款"},
    ]
    assert trigger.actions == [
        {"field": "priority", "value": "urgent"},
        {"field": "current_tags", "value": "refund"},
    ]
    ticket = create_ticket(
        actor=personas.bob, data=TicketData(subject="申请退款"), comment=NewComment(body="b")
    )
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    assert "refund" in ticket.tags


def test_editing_a_trigger_shows_its_rows_and_keeps_their_order(personas):
    client = admin_client(personas)
    client.post(reverse("rules:new_trigger"), REFUND_RULE)
    trigger = Trigger.objects.get()
    html = client.get(reverse("rules:edit_trigger", args=[trigger.pk])).content.decode()
    rows = html[html.index('id="block-all"') :]
    selected = re.findall(r'<option value="([^"]*)" selected>', rows)
    assert selected[:6] == ["update_type", "is", "Create", "subject", "includes", "priority"]
    assert 'value="退款"' in html


def test_a_bad_row_is_shown_next_to_it_in_the_users_language_and_the_input_is_kept(personas):
    client = admin_client(personas)
    client.cookies["django_language"] = "zh-hans"
    data = {
        **REFUND_RULE,
        "all-a2-field": "priority",
        "all-a2-operator": "less_than",
        "all-a2-value": "",
        "actions-b2-field": "assignee_id",
        "actions-b2-value": "999",
    }
    response = client.post(reverse("rules:new_trigger"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    html = response.content.decode()
    condition_row = html[html.index('id="row-all-a2"') : html.index('id="row-actions-b1"')]
    assert "需要一个值" in condition_row  # "needs a value", on the row at fault
    action_row = html[html.index('id="row-actions-b2"') :]
    assert "999" in action_row.split("</div>")[0]
    assert 'value="Refunds are urgent / 退款加急"' in html
    assert not Trigger.objects.exists()


def test_changing_the_field_of_a_row_offers_its_operators_and_value_widget(personas):
    client = admin_client(personas)
    group = Group.objects.create(name="Tier 2 二线")
    response = client.get(
        reverse("rules:builder_row"),
        {
            "rule": "trigger",
            "prefix": "all",
            "key": "k1",
            "changed": "field",
            "all-k1-field": "group_id",
            "all-k1-operator": "includes",
        },
    )
    html = response.content.decode()
    assert 'value="changed_to"' in html  # group changes are trigger conditions
    assert 'value="includes"' not in html
    assert f'<option value="{group.pk}">Tier 2 二线</option>' in html
    response = client.get(
        reverse("rules:builder_row"),
        {"rule": "automation", "prefix": "all", "key": "k1", "all-k1-field": "NEW"},
    )
    html = response.content.decode()
    assert 'type="number"' in html
    assert 'value="changed_to"' not in html
    response = client.get(
        reverse("rules:builder_row"),
        {
            "rule": "trigger",
            "prefix": "actions",
            "key": "k2",
            "actions-k2-field": "notification_user",
        },
    )
    html = response.content.decode()
    assert 'name="actions-k2-value_1"' in html and 'name="actions-k2-value_2"' in html


def test_the_json_fallback_still_saves_a_rule_and_names_bad_json(personas):
    client = admin_client(personas)
    data = {
        "title": "JSON",
        "use_json": "on",
        "actions": "[not json",
        "conditions": json.dumps({"all": [{"field": "status", "operator": "is", "value": "new"}]}),
    }
    response = client.post(reverse("rules:new_trigger"), data)
    assert response.status_code == 400
    assert "This is not valid JSON" in response.content.decode()
    data["actions"] = json.dumps([{"field": "colour", "value": 1}])
    response = client.post(reverse("rules:new_trigger"), data)
    assert "Unknown action: colour" in response.content.decode()
    data["actions"] = json.dumps([{"field": "priority", "value": "low"}])
    assert client.post(reverse("rules:new_trigger"), data).status_code == 302
    assert Trigger.objects.get().actions == [{"field": "priority", "value": "low"}]


def test_an_automation_built_with_rows_needs_a_condition_its_actions_nullify(personas):
    client = admin_client(personas)
    assert client.get(reverse("rules:new_automation")).status_code == 200
    data = {
        "title": "Close solved after 4 days",
        "active": "on",
        "all-c1-field": "SOLVED",
        "all-c1-operator": "greater_than",
        "all-c1-value": "96",
        "actions-d1-field": "priority",
        "actions-d1-value": "low",
    }
    response = client.post(reverse("rules:new_automation"), data)
    assert response.status_code == 400
    assert not Automation.objects.exists()
    data["actions-d1-field"], data["actions-d1-value"] = "status", "closed"
    assert client.post(reverse("rules:new_automation"), data).status_code == 302
    assert Automation.objects.get().conditions["all"] == [
        {"field": "SOLVED", "operator": "greater_than", "value": "96"}
    ]
    assert "Close solved after 4 days" in client.get(reverse("rules:automations")).content.decode()


def test_moving_a_trigger_up_changes_the_run_order(personas):
    from kefu.rules import actions as rules

    create = {"all": [{"field": "update_type", "operator": "is", "value": "Create"}]}
    first = rules.create_trigger(
        actor=personas.admin,
        title="first",
        conditions=create,
        actions=[{"field": "priority", "value": "low"}],
    )
    second = rules.create_trigger(
        actor=personas.admin,
        title="second",
        conditions=create,
        actions=[{"field": "priority", "value": "high"}],
    )
    client = admin_client(personas)
    client.post(reverse("rules:move_trigger", args=[second.pk, "up"]))
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.position < first.position


def test_agents_cannot_open_the_triggers_pages(personas):
    client = Client()
    client.force_login(personas.alice)
    assert client.get(reverse("rules:triggers")).status_code == 403
    assert client.get(reverse("rules:new_automation")).status_code == 403
    row = client.get(reverse("rules:builder_row"), {"rule": "trigger", "prefix": "all"})
    assert row.status_code == 403


def test_the_builder_offers_each_rule_kind_its_own_fields(personas):
    from kefu.rules import builder
    from kefu.tickets.actions import create_ticket_field

    field = create_ticket_field(type="tagger", title="Product 产品",
                                options=[{"name": "Washer", "value": "washer"}])  # fmt: skip
    trigger_fields = dict(builder.condition_fields(builder.trigger_kind()))
    automation_fields = dict(builder.condition_fields(builder.automation_kind()))
    assert "update_type" in trigger_fields and "update_type" not in automation_fields
    assert "comment_is_public" not in automation_fields
    assert automation_fields["NEW"] == "Hours since created"
    assert trigger_fields[f"custom_fields_{field.pk}"] == "Product 产品"
    widget = builder.condition_widget(builder.trigger_kind(), f"custom_fields_{field.pk}", "is")
    assert ("washer", "Washer") in widget.options
