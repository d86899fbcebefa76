"""Custom statuses and ticket fields over the API."""

import pytest

from kefu.tickets.models import TicketField

from .conftest import make_ticket

pytestmark = pytest.mark.django_db


def test_agents_list_custom_statuses_and_admins_create_and_update_them(personas, api):
    listed = api(personas.alice).get("custom_statuses.json").json()["custom_statuses"]
    assert {s["status_category"] for s in listed} >= {"new", "open", "pending", "solved"}
    assert all(s["default"] for s in listed)

    admin = api(personas.admin)
    created = admin.post(
        "custom_statuses",
        {"custom_status": {"status_category": "pending", "agent_label": "等待配件",
                           "end_user_label": "Waiting for parts"}},
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    status = created.json()["custom_status"]
    assert status["agent_label"] == "等待配件"
    assert status["default"] is False
    updated = admin.put(
        f"custom_statuses/{status['id']}", {"custom_status": {**status, "active": False}}
    )
    assert updated.status_code == 200, updated.json()
    assert updated.json()["custom_status"]["active"] is False
    assert len(admin.get("custom_statuses?active=false").json()["custom_statuses"]) == 1


def test_tickets_take_a_custom_status_and_expose_its_id(personas, api):
    admin = api(personas.admin)
    status = admin.post(
        "custom_statuses", {"custom_status": {"status_category": "hold", "agent_label": "Parts"}}
    ).json()["custom_status"]
    ticket = make_ticket(personas.bob)
    updated = admin.put(f"tickets/{ticket.pk}", {"ticket": {"custom_status_id": status["id"]}})
    assert updated.json()["ticket"]["custom_status_id"] == status["id"]
    assert updated.json()["ticket"]["status"] == "hold"


def test_only_admins_change_custom_statuses(personas, api):
    response = api(personas.alice).post(
        "custom_statuses", {"custom_status": {"status_category": "open", "agent_label": "x"}}
    )
    assert response.status_code == 403
    bad = api(personas.admin).post(
        "custom_statuses", {"custom_status": {"status_category": "exploded", "agent_label": "x"}}
    )
    assert bad.status_code == 422
    assert "status_category" in bad.json()["details"]
    assert api(personas.bob).get("custom_statuses").status_code == 403


def test_ticket_field_lifecycle_with_options(personas, api):
    admin = api(personas.admin)
    created = admin.post(
        "ticket_fields.json",
        {"ticket_field": {"type": "tagger", "title": "产品 Product", "visible_in_portal": True,
                          "custom_field_options": [{"name": "手机", "value": "phone"},
                                                   {"name": "Laptop", "value": "laptop"}]}},
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    field = created.json()["ticket_field"]
    assert [o["value"] for o in field["custom_field_options"]] == ["phone", "laptop"]

    ticket = make_ticket(personas.bob)
    set_value = admin.put(
        f"tickets/{ticket.pk}", {"ticket": {"custom_fields": [{"id": field["id"], "value": "x"}]}}
    )
    assert set_value.status_code == 422
    ok = admin.put(
        f"tickets/{ticket.pk}",
        {"ticket": {"custom_fields": [{"id": field["id"], "value": "phone"}]}},
    )
    shown = ok.json()["ticket"]
    assert {"id": field["id"], "value": "phone"} in shown["custom_fields"]
    assert "phone" in shown["tags"]

    renamed = admin.put(
        f"ticket_fields/{field['id']}",
        {"ticket_field": {**field, "title": "Product",
                          "custom_field_options": [{"name": "Phone", "value": "phone"}]}},
    )  # fmt: skip
    assert renamed.status_code == 200, renamed.json()
    assert renamed.json()["ticket_field"]["title"] == "Product"
    assert len(renamed.json()["ticket_field"]["custom_field_options"]) == 1
    assert api(personas.bob).get(f"ticket_fields/{field['id']}").status_code == 200
    assert admin.delete(f"ticket_fields/{field['id']}").status_code == 204
    assert not TicketField.objects.exists()


def test_ticket_field_errors(personas, api):
    admin = api(personas.admin)
    assert admin.post("ticket_fields", {"ticket_field": {"title": "x"}}).status_code == 422
    bad_type = admin.post("ticket_fields", {"ticket_field": {"type": "nope", "title": "x"}})
    assert bad_type.status_code == 422
    assert "type" in bad_type.json()["details"]
    field = {"ticket_field": {"type": "text", "title": "x"}}
    agent = api(personas.alice).post("ticket_fields", field)
    assert agent.status_code == 403
    hidden = admin.post(
        "ticket_fields", {"ticket_field": {"type": "text", "title": "Internal"}}
    ).json()["ticket_field"]
    assert api(personas.bob).get(f"ticket_fields/{hidden['id']}").status_code == 404
    assert api(personas.bob).get("ticket_fields").json()["ticket_fields"] == []


def test_listing_ticket_fields_takes_a_fixed_number_of_queries(
    personas, api, django_assert_max_num_queries
):
    admin = api(personas.admin)
    for n in range(10):
        admin.post("ticket_fields", {"ticket_field": {"type": "tagger", "title": f"F{n}",
                   "custom_field_options": [{"name": "A", "value": f"a{n}"}]}})  # fmt: skip
    with django_assert_max_num_queries(6):
        assert len(admin.get("ticket_fields").json()["ticket_fields"]) == 10
