"""Views (CRUD, tickets, count) and macros (CRUD, apply without changing anything)."""

import pytest

from kefu.tickets.models import Audit

from .conftest import make_ticket

pytestmark = pytest.mark.django_db

UNSOLVED = {"all": [{"field": "status", "operator": "less_than", "value": "solved"}], "any": []}


def test_admin_creates_a_shared_view_and_agents_list_its_tickets(personas, api):
    admin = api(personas.admin)
    created = admin.post(
        "views.json",
        {"view": {"title": "未解决", "all": UNSOLVED["all"],
                  "output": {"columns": ["id", "subject"], "sort_by": "created_at",
                             "sort_order": "asc"}}},
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    view = created.json()["view"]
    assert view["restriction"] is None
    assert view["execution"]["sort_by"] == "created_at"
    for n in range(3):
        make_ticket(personas.bob, f"T{n}")
    alice = api(personas.alice)
    tickets = alice.get(f"views/{view['id']}/tickets").json()
    assert [t["subject"] for t in tickets["tickets"]] == ["T0", "T1", "T2"]
    assert tickets["count"] == 3
    count = alice.get(f"views/{view['id']}/count.json").json()["view_count"]
    assert count["value"] == 3 and count["view_id"] == view["id"]
    cursor = alice.get(f"views/{view['id']}/tickets?page[size]=2").json()
    assert [t["subject"] for t in cursor["tickets"]] == ["T0", "T1"]
    rest = alice.get(cursor["links"]["next"].split("/api/v2/")[1]).json()
    assert [t["subject"] for t in rest["tickets"]] == ["T2"]
    assert rest["meta"]["has_more"] is False


def test_agent_keeps_a_personal_view_others_cannot_see(personas, api):
    alice = api(personas.alice)
    created = alice.post(
        "views", {"view": {"title": "Mine", "conditions": UNSOLVED,
                           "restriction": {"type": "User", "id": personas.alice.pk}}}
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    view = created.json()["view"]
    assert view["restriction"] == {"type": "User", "id": personas.alice.pk, "ids": None}
    assert (
        alice.put(f"views/{view['id']}", {"view": {"title": "Mine!"}}).json()["view"]["title"]
        == "Mine!"
    )
    assert api(personas.bob).get(f"views/{view['id']}").status_code == 404
    shared = alice.post("views", {"view": {"title": "Shared", "conditions": UNSOLVED}})
    assert shared.status_code == 403
    assert alice.delete(f"views/{view['id']}").status_code == 204


def test_bad_view_conditions_name_the_field(personas, api):
    response = api(personas.admin).post(
        "views",
        {"view": {"title": "x",
                  "all": [{"field": "mood", "operator": "is", "value": "happy"}]}},
    )  # fmt: skip
    assert response.status_code == 422
    assert "conditions" in response.json()["details"]


def test_macro_apply_shows_the_would_be_ticket_and_changes_nothing(personas, api):
    admin = api(personas.admin)
    macro = admin.post(
        "macros",
        {"macro": {"title": "退款已处理", "actions": [
            {"field": "status", "value": "solved"},
            {"field": "assignee_id", "value": "current_user"},
            {"field": "current_tags", "value": "refund"},
            {"field": "comment_value", "value": "您的退款已处理。"},
        ]}},
    )  # fmt: skip
    assert macro.status_code == 201, macro.json()
    macro_id = macro.json()["macro"]["id"]
    ticket = make_ticket(personas.bob)
    audits = Audit.objects.count()
    alice = api(personas.alice)
    result = alice.get(f"tickets/{ticket.pk}/macros/{macro_id}/apply.json").json()["result"]
    assert result["ticket"]["id"] == ticket.pk
    assert result["ticket"]["status"] == "solved"
    assert result["ticket"]["assignee_id"] == personas.alice.pk
    assert "refund" in result["ticket"]["tags"]
    assert result["comment"]["body"] == "您的退款已处理。"
    alone = alice.get(f"macros/{macro_id}/apply").json()["result"]
    assert alone["ticket"] == {"status": "solved", "assignee_id": personas.alice.pk,
                               "tags": ["refund"]}  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert Audit.objects.count() == audits


def test_macro_crud_and_errors(personas, api):
    admin = api(personas.admin)
    bad = admin.post("macros", {"macro": {"title": "x", "actions": [{"field": "nope",
                                                                      "value": 1}]}})  # fmt: skip
    assert bad.status_code == 422
    assert "actions" in bad.json()["details"]
    macro = admin.post(
        "macros", {"macro": {"title": "Low", "actions": [{"field": "priority", "value": "low"}]}}
    ).json()["macro"]
    listed = api(personas.alice).get("macros").json()
    assert [m["id"] for m in listed["macros"]] == [macro["id"]]
    assert (
        api(personas.alice).put(f"macros/{macro['id']}", {"macro": {"title": "x"}}).status_code
        == 403
    )
    renamed = admin.put(f"macros/{macro['id']}", {"macro": {"title": "Lower"}})
    assert renamed.json()["macro"]["title"] == "Lower"
    assert api(personas.bob).get(f"macros/{macro['id']}").status_code == 404
    assert admin.delete(f"macros/{macro['id']}").status_code == 204
