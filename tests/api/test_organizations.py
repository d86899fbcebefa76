"""Organizations over HTTP."""

import pytest

from kefu.crm import actions as crm
from kefu.crm.models import Organization

pytestmark = pytest.mark.django_db


def test_agent_lists_and_shows_organizations(personas, api, django_assert_max_num_queries):
    crm.update_organization(personas.acme, notes="大客户")
    client = api(personas.alice)
    with django_assert_max_num_queries(8):
        body = client.get("organizations.json").json()
    assert [o["name"] for o in body["organizations"]] == ["Acme", "Globex 环球"]
    assert body["count"] == 2
    acme = client.get(f"organizations/{personas.acme.pk}").json()["organization"]
    assert (acme["notes"], acme["domain_names"]) == ("大客户", ["acme.test"])
    assert acme["url"] == f"http://testserver/api/v2/organizations/{personas.acme.pk}.json"


def test_end_users_see_only_their_organization_without_notes(personas, api):
    crm.update_organization(personas.acme, notes="internal")
    client = api(personas.bob)
    assert [o["id"] for o in client.get("organizations").json()["organizations"]] == [
        personas.acme.pk
    ]
    assert client.get(f"organizations/{personas.acme.pk}").json()["organization"]["notes"] == ""
    assert client.get(f"organizations/{personas.globex.pk}").status_code == 404
    assert client.post("organizations", {"organization": {"name": "Mine"}}).status_code == 403


def test_create_update_and_bad_input(personas, api):
    client = api(personas.alice)
    created = client.post(
        "organizations",
        {
            "organization": {
                "name": "Initech 英泰",
                "domain_names": ["initech.test"],
                "group_id": personas.support.pk,
                "tags": ["vip"],
            }
        },
    )
    assert created.status_code == 201, created.json()
    org = created.json()["organization"]
    assert (org["group_id"], org["tags"]) == (personas.support.pk, ["vip"])
    updated = client.put(
        f"organizations/{org['id']}", {"organization": {"shared_tickets": True, "notes": "n"}}
    ).json()["organization"]
    assert updated["shared_tickets"] is True and updated["notes"] == "n"
    duplicate = client.post("organizations", {"organization": {"name": "acme"}})
    assert duplicate.status_code == 422 and "name" in duplicate.json()["details"]
    bad_group = client.put(f"organizations/{org['id']}", {"organization": {"group_id": 7}})
    assert bad_group.status_code == 422 and "group_id" in bad_group.json()["details"]
    wrong_type = client.post(
        "organizations", {"organization": {"name": "X", "shared_tickets": "maybe"}}
    )
    assert wrong_type.status_code == 422
    for nameless in ({}, {"name": None}, {"notes": "no name"}):
        response = client.post("organizations", {"organization": nameless})
        assert response.status_code == 422 and "name" in response.json()["details"]
        response = client.post("organizations/create_or_update", {"organization": nameless})
        assert response.status_code == 422 and "name" in response.json()["details"]
    assert Organization.objects.count() == 3


def test_create_or_update_and_show_many(personas, api):
    client = api(personas.alice)
    payload = {"organization": {"name": "Initech", "external_id": "erp-1"}}
    assert client.post("organizations/create_or_update", payload).status_code == 201
    payload["organization"]["notes"] = "updated"
    again = client.post("organizations/create_or_update", payload)
    assert again.status_code == 200 and again.json()["organization"]["notes"] == "updated"
    org_id = again.json()["organization"]["id"]
    many = client.get(f"organizations/show_many?ids={org_id},{personas.acme.pk}").json()
    assert {o["id"] for o in many["organizations"]} == {org_id, personas.acme.pk}
    by_external = client.get("organizations/show_many?external_ids=erp-1").json()
    assert [o["id"] for o in by_external["organizations"]] == [org_id]


def test_only_admins_delete_organizations(personas, api):
    assert api(personas.alice).delete(f"organizations/{personas.globex.pk}").status_code == 403
    assert api(personas.admin).delete(f"organizations/{personas.globex.pk}").status_code == 204
    assert not Organization.objects.filter(pk=personas.globex.pk).exists()
    assert api(personas.admin).delete(f"organizations/{personas.globex.pk}").status_code == 404
