"""Customer and organization pages in the agent workspace."""

from django.urls import reverse

from kefu.accounts.models import User
from kefu.crm.models import Organization
from kefu.tickets.actions import NewComment, TicketData, create_ticket


def test_customer_page_shows_profile_identities_and_tickets(client, personas):
    create_ticket(
        actor=personas.bob,
        data=TicketData(subject="我的订单在哪里"),
        comment=NewComment(body="?"),
    )
    client.force_login(personas.alice)
    html = client.get(reverse("crm:user", args=[personas.bob.pk])).content.decode()
    assert "bob@acme.test" in html
    assert "我的订单在哪里" in html
    assert "Acme" in html
    assert "Edit profile" in html


def test_agent_edits_a_customer_through_the_accounts_action(client, personas):
    client.force_login(personas.alice)
    response = client.post(
        reverse("crm:user", args=[personas.bob.pk]),
        {"name": "Bob 鲍勃", "email": "bob@acme.test", "time_zone": "Asia/Shanghai",
         "locale": "zh-hans", "tags": "VIP gold", "phone": "+86 10 1234 5678"},
    )  # fmt: skip
    assert response.status_code == 302
    bob = User.objects.get(pk=personas.bob.pk)
    assert bob.name == "Bob 鲍勃"
    assert bob.tags == ["vip", "gold"]
    assert bob.locale == "zh-hans"


def test_a_taken_email_is_shown_next_to_the_field(client, personas):
    client.force_login(personas.alice)
    response = client.post(
        reverse("crm:user", args=[personas.bob.pk]),
        {"name": "Bob", "email": "carol@globex.test", "time_zone": "Asia/Shanghai"},
    )
    assert response.status_code == 400
    assert "already in use" in " ".join(response.context["form"].errors["email"])
    assert User.objects.get(pk=personas.bob.pk).email == "bob@acme.test"


def test_agents_cannot_edit_other_agents(client, personas):
    client.force_login(personas.alice)
    response = client.post(
        reverse("crm:user", args=[personas.admin.pk]),
        {"name": "Hacked", "email": "admin@kefu.test", "time_zone": "Asia/Shanghai"},
    )
    assert response.status_code == 403
    assert User.objects.get(pk=personas.admin.pk).name == "Admin"


def test_unknown_people_and_organizations_are_not_found(client, personas):
    client.force_login(personas.alice)
    assert client.get(reverse("crm:user", args=[999999])).status_code == 404
    assert client.get(reverse("crm:organization", args=[999999])).status_code == 404


def test_end_users_do_not_get_agent_pages(client, personas):
    client.force_login(personas.bob)
    response = client.get(reverse("crm:user", args=[personas.bob.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/portal/"


def test_organization_page_and_edit(client, personas):
    client.force_login(personas.alice)
    page = client.get(reverse("crm:organization", args=[personas.acme.pk]))
    assert "Bob" in page.content.decode()
    response = client.post(
        reverse("crm:organization", args=[personas.acme.pk]),
        {"name": "Acme 艾克米", "domain_names": "acme.test acme.cn", "shared_tickets": "on",
         "group": str(personas.support.pk), "tags": "key"},
    )  # fmt: skip
    assert response.status_code == 302
    acme = Organization.objects.get(pk=personas.acme.pk)
    assert acme.name == "Acme 艾克米"
    assert acme.domain_names == ["acme.test", "acme.cn"]
    assert acme.shared_tickets
    assert acme.group == personas.support


def test_organization_name_clash_is_shown_next_to_the_field(client, personas):
    client.force_login(personas.alice)
    response = client.post(
        reverse("crm:organization", args=[personas.acme.pk]), {"name": "Globex 环球"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["name"]


def test_light_agents_see_customers_and_organizations_but_edit_neither(client, personas):
    from kefu.accounts import actions as accounts
    from kefu.accounts.choices import Role

    lee = accounts.create_user(name="Lee 李", email="lee@kefu.test", role=Role.LIGHT_AGENT)
    client.force_login(lee)
    org_url = reverse("crm:organization", args=[personas.acme.pk])
    page = client.get(org_url + "?edit=1")
    assert page.status_code == 200 and "Save organization" not in page.content.decode()
    assert client.post(org_url, {"name": "Taken over"}).status_code == 403
    assert Organization.objects.get(pk=personas.acme.pk).name == personas.acme.name
    user_url = reverse("crm:user", args=[personas.bob.pk])
    page = client.get(user_url + "?edit=1").content.decode()
    assert "Save profile" not in page and "New ticket" not in page
    assert client.post(user_url, {"name": "Robert"}).status_code == 403
