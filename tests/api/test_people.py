"""Users, groups and group memberships over HTTP."""

import pytest

from kefu.accounts import actions as accounts
from kefu.accounts.models import User

from .conftest import make_ticket

pytestmark = pytest.mark.django_db


def test_agent_lists_users_with_offset_and_cursor_pages(
    personas, api, django_assert_max_num_queries
):
    for n in range(5):
        accounts.create_user(name=f"客户 {n}", email=f"c{n}@example.test")
    client = api(personas.alice)
    with django_assert_max_num_queries(12):
        first = client.get("users.json?per_page=3").json()
    assert len(first["users"]) == 3 and first["count"] == 9
    assert first["next_page"].startswith("http://testserver/api/v2/users.json?")
    cursor = client.get("users?page[size]=5").json()
    assert len(cursor["users"]) == 5 and cursor["meta"]["has_more"]
    rest = client.get(cursor["links"]["next"].replace("http://testserver/api/v2/", "")).json()
    ids = [u["id"] for u in cursor["users"] + rest["users"]]
    assert len(ids) == len(set(ids)) == 9
    agents = client.get("users?role=agent").json()["users"]
    assert [u["email"] for u in agents] == ["alice@kefu.test"]


def test_end_users_list_only_themselves(personas, api):
    users = api(personas.bob).get("users").json()["users"]
    assert [u["id"] for u in users] == [personas.bob.pk]
    assert api(personas.bob).get(f"users/{personas.carol.pk}").status_code == 404


def test_agent_creates_an_end_user_and_bad_input_names_the_field(personas, api):
    client = api(personas.alice)
    response = client.post(
        "users",
        {
            "user": {
                "name": "Dora 赵",
                "email": "dora@acme.test",
                "tags": ["vip"],
                "external_id": "crm-9",
                "colour": "ignored",
            }
        },
    )
    assert response.status_code == 201, response.json()
    dora = response.json()["user"]
    assert (dora["name"], dora["role"], dora["organization_id"]) == (
        "Dora 赵", "end-user", personas.acme.pk,
    )  # fmt: skip
    taken = client.post("users", {"user": {"name": "Again", "email": "DORA@acme.test"}})
    assert taken.status_code == 422
    assert taken.json()["error"] == "RecordInvalid" and "email" in taken.json()["details"]
    wrong_type = client.post("users", {"user": {"name": ["x"]}})
    assert wrong_type.status_code == 422
    unknown_org = client.post("users", {"user": {"name": "X", "organization_id": 42}})
    assert "organization_id" in unknown_org.json()["details"]


def test_only_admins_create_agents(personas, api):
    payload = {"user": {"name": "Eve", "email": "eve@kefu.test", "role": "agent"}}
    assert api(personas.alice).post("users", payload).status_code == 403
    assert api(personas.bob).post("users", {"user": {"name": "X"}}).status_code == 403
    assert api(personas.admin).post("users", payload).status_code == 201


def test_update_and_self_service(personas, api):
    client = api(personas.alice)
    updated = client.put(
        f"users/{personas.bob.pk}",
        {"user": {"phone": "+86 10 5555", "organization_id": personas.globex.pk}},
    ).json()["user"]
    assert updated["phone"] == "+86 10 5555"
    assert updated["organization_id"] == personas.globex.pk
    assert (
        api(personas.bob).put(f"users/{personas.bob.pk}", {"user": {"name": "Bobby"}}).status_code
        == 200
    )
    assert (
        api(personas.bob).put(f"users/{personas.bob.pk}", {"user": {"role": "admin"}}).status_code
        == 403
    )
    assert client.put(f"users/{personas.admin.pk}", {"user": {"name": "x"}}).status_code == 403


def test_delete_is_soft_and_the_person_leaves_the_list(personas, api):
    client = api(personas.admin)
    response = client.delete(f"users/{personas.carol.pk}")
    assert response.status_code == 200 and response.json()["user"]["active"] is False
    ids = [u["id"] for u in client.get("users").json()["users"]]
    assert personas.carol.pk not in ids
    assert client.get(f"users/{personas.carol.pk}").json()["user"]["active"] is False
    assert client.delete(f"users/{personas.admin.pk}").status_code == 422
    assert api(personas.alice).delete(f"users/{personas.admin.pk}").status_code == 403


def test_show_many_by_ids_and_external_ids(personas, api):
    accounts.update_user(personas.carol, external_id="crm-carol")
    client = api(personas.alice)
    ids = f"{personas.bob.pk},{personas.carol.pk},999"
    assert {u["id"] for u in client.get(f"users/show_many?ids={ids}").json()["users"]} == {
        personas.bob.pk, personas.carol.pk,
    }  # fmt: skip
    by_external = client.get("users/show_many.json?external_ids=crm-carol").json()["users"]
    assert [u["id"] for u in by_external] == [personas.carol.pk]
    assert (
        api(personas.bob).get(f"users/show_many?ids={ids}").json()["users"][0]["id"]
        == personas.bob.pk
    )


def test_users_search_by_query_and_external_id(personas, api):
    accounts.update_user(personas.carol, external_id="crm-carol")
    client = api(personas.alice)
    found = client.get("users/search?query=陈").json()
    assert [u["id"] for u in found["users"]] == [personas.carol.pk] and found["count"] == 1
    assert "result_type" not in found["users"][0]
    by_external = client.get("users/search?external_id=crm-carol").json()["users"]
    assert [u["id"] for u in by_external] == [personas.carol.pk]
    assert client.get("users/search?query=role:superhero").status_code == 422
    assert client.get("users/search").status_code == 400


def test_create_or_update_answers_201_then_200(personas, api):
    client = api(personas.alice)
    payload = {"user": {"name": "Dora", "email": "dora@example.test", "external_id": "crm-d"}}
    first = client.post("users/create_or_update", payload)
    assert first.status_code == 201
    payload["user"]["name"] = "Dora 赵"
    second = client.post("users/create_or_update", payload)
    assert second.status_code == 200
    assert second.json()["user"]["id"] == first.json()["user"]["id"]
    assert second.json()["user"]["name"] == "Dora 赵"
    assert User.objects.filter(external_id="crm-d").count() == 1


def test_requested_tickets_of_a_user(personas, api):
    bobs = make_ticket(personas.bob, "Bob's")
    make_ticket(personas.carol, "Carol's")
    tickets = (
        api(personas.alice).get(f"users/{personas.bob.pk}/tickets/requested").json()["tickets"]
    )
    assert [t["id"] for t in tickets] == [bobs.pk]
    assert api(personas.bob).get(f"users/{personas.carol.pk}/tickets/requested").status_code == 404


def test_groups_crud_is_for_admins(personas, api):
    admin = api(personas.admin)
    created = admin.post("groups", {"group": {"name": "售后", "description": "After-sales"}})
    assert created.status_code == 201
    group_id = created.json()["group"]["id"]
    assert (
        admin.put(f"groups/{group_id}", {"group": {"name": "售后服务"}}).json()["group"]["name"]
        == "售后服务"
    )
    assert admin.post("groups", {"group": {"name": "support"}}).status_code == 422
    assert api(personas.alice).post("groups", {"group": {"name": "X"}}).status_code == 403
    assert {g["name"] for g in api(personas.alice).get("groups").json()["groups"]} == {
        "Support",
        "售后服务",
    }
    assert api(personas.bob).get("groups").json()["groups"] == []
    assert admin.delete(f"groups/{group_id}").status_code == 204
    assert admin.get(f"groups/{group_id}").status_code == 404


def test_group_memberships(personas, api):
    admin = api(personas.admin)
    billing = accounts.create_group(name="Billing")
    created = admin.post(
        "group_memberships",
        {"group_membership": {"user_id": personas.alice.pk, "group_id": billing.pk}},
    )
    assert created.status_code == 201
    listed = admin.get("group_memberships").json()["group_memberships"]
    assert {(m["user_id"], m["group_id"]) for m in listed} >= {(personas.alice.pk, billing.pk)}
    bad = admin.post(
        "group_memberships",
        {"group_membership": {"user_id": personas.bob.pk, "group_id": billing.pk}},
    )
    assert bad.status_code == 422 and "user_id" in bad.json()["details"]
    assert (
        admin.delete(f"group_memberships/{created.json()['group_membership']['id']}").status_code
        == 204
    )
    assert not personas.alice.group_memberships.filter(group=billing).exists()
