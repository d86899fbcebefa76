"""Admin settings pages: only admins, every section renders, forms go through the actions."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kefu.accounts import actions as accounts
from kefu.accounts.models import AccountSettings, Group, User
from kefu.tickets.actions import NewComment, TicketData, create_ticket, create_ticket_field
from kefu.tickets.models import Macro, Ticket, TicketField, View
from kefu.web.admin.sections import AdminSection, register, sections, unregister
from tests.accounts.test_registration import PNG

PAGES = [
    "/agent/admin/", "/agent/admin/agents/", "/agent/admin/agents/invite/",
    "/agent/admin/groups/", "/agent/admin/groups/new/", "/agent/admin/fields/",
    "/agent/admin/fields/new/", "/agent/admin/views/", "/agent/admin/views/new/",
    "/agent/admin/macros/", "/agent/admin/macros/new/", "/agent/admin/tags/",
    "/agent/admin/settings/", "/agent/admin/branding/",
]  # fmt: skip


@pytest.fixture
def admin(client, personas):  # type: ignore[no-untyped-def]
    client.force_login(personas.admin)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_every_admin_page_renders_for_an_admin_in_both_languages(admin, path):
    assert admin.get(path).status_code == 200
    assert admin.get(path, HTTP_ACCEPT_LANGUAGE="zh-CN").status_code == 200


def test_anonymous_visitors_sign_in_first(client, db):
    response = client.get("/agent/admin/fields/")

    assert response.status_code == 302
    assert response.url.startswith("/login/?next=")


def test_agents_are_refused_and_customers_do_not_see_it_exists(client, personas):
    client.force_login(personas.alice)
    assert client.get("/agent/admin/").status_code == 403
    assert client.post("/agent/admin/groups/new/", {"name": "Sneaky"}).status_code == 403

    client.force_login(personas.bob)
    assert client.get("/agent/admin/").status_code == 404
    assert not Group.objects.filter(name="Sneaky").exists()


def test_later_apps_add_their_own_section(admin):
    register(AdminSection("sla", "SLA policies", "web_admin:settings", order=75))
    try:
        assert "SLA policies" in admin.get("/agent/admin/").content.decode()
        assert [s.key for s in sections()].index("sla") == 7
    finally:
        unregister("sla")


# --- Agents and groups --------------------------------------------------------------------------


def test_inviting_an_agent_emails_a_set_password_link(
    admin, personas, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/agent/admin/agents/invite/",
            {"name": "Eve 伊芙", "email": "eve@kefu.test", "role": "agent",
             "groups": [personas.support.pk]},
        )  # fmt: skip

    assert response.status_code == 302
    eve = User.objects.get(email="eve@kefu.test")
    assert eve.is_agent and list(eve.agent_groups.all()) == [personas.support]
    assert "/password/reset/" in mailoutbox[0].body
    assert "Admin added you as an agent" in mailoutbox[0].body


def test_inviting_a_bad_address_keeps_the_form_with_the_error(admin, personas):
    response = admin.post(
        "/agent/admin/agents/invite/",
        {"name": "Alice again", "email": personas.alice.email, "role": "agent"},
    )

    assert response.status_code == 400
    assert 'id="id_email_error"' in response.content.decode()
    assert 'value="Alice again"' in response.content.decode()


def test_an_admin_changes_an_agents_role_and_groups(admin, personas):
    billing = accounts.create_group(name="Billing")

    response = admin.post(
        f"/agent/admin/agents/{personas.alice.pk}/",
        {"name": "Alice 王", "role": "admin", "groups": [billing.pk]},
    )

    assert response.status_code == 302
    alice = User.objects.get(pk=personas.alice.pk)
    assert alice.is_admin
    assert list(alice.agent_groups.all()) == [billing]


def test_an_admin_cannot_demote_themselves(admin, personas):
    response = admin.post(
        f"/agent/admin/agents/{personas.admin.pk}/", {"name": "Admin", "role": "agent"}
    )

    assert response.status_code == 400
    assert User.objects.get(pk=personas.admin.pk).is_admin


def test_groups_are_created_renamed_and_deleted(admin, personas):
    assert admin.post("/agent/admin/groups/new/", {"name": "售后 After-sales"}).status_code == 302
    group = Group.objects.get(name="售后 After-sales")

    assert admin.post(f"/agent/admin/groups/{group.pk}/", {"name": "Support"}).status_code == 400
    assert admin.post(f"/agent/admin/groups/{group.pk}/", {"name": "售后"}).status_code == 302
    assert admin.get(f"/agent/admin/groups/{group.pk}/delete/").status_code == 405
    assert admin.post(f"/agent/admin/groups/{group.pk}/delete/").status_code == 302
    assert not Group.objects.filter(pk=group.pk).exists()


# --- Ticket fields ------------------------------------------------------------------------------


def test_a_dropdown_field_with_options_appears_on_the_portal_form(admin, client, personas):
    response = admin.post(
        "/agent/admin/fields/new/",
        {"type": "tagger", "title": "Product", "title_in_portal": "产品", "position": 1,
         "active": "on", "visible_in_portal": "on", "editable_in_portal": "on",
         "required_in_portal": "on", "options": "洗衣机 | washer\nDryer"},
    )  # fmt: skip

    assert response.status_code == 302
    field = TicketField.objects.get(title="Product")
    assert [(o.name, o.value) for o in field.options.all()] == [
        ("洗衣机", "washer"), ("Dryer", "dryer"),
    ]  # fmt: skip
    client.force_login(personas.bob)
    html = client.get("/portal/requests/new/").content.decode()
    assert "产品" in html and "洗衣机" in html


def test_editing_options_keeps_the_field_type(admin, personas):
    field = create_ticket_field(type="tagger", title="Product", options=[("A", "a")])

    response = admin.post(
        f"/agent/admin/fields/{field.pk}/",
        {"type": "text", "title": "Product", "position": 0, "active": "on",
         "options": "A | a\nB | b"},
    )  # fmt: skip

    assert response.status_code == 302
    field.refresh_from_db()
    assert field.type == "tagger"
    assert [o.value for o in field.options.all()] == ["a", "b"]


def test_a_dropdown_without_options_is_refused_next_to_the_options(admin, db):
    response = admin.post(
        "/agent/admin/fields/new/",
        {"type": "tagger", "title": "Product", "position": 0, "active": "on"},
    )

    assert response.status_code == 400
    assert 'id="id_options_error"' in response.content.decode()
    assert not TicketField.objects.exists()


def test_required_in_portal_needs_editable_in_portal(admin, db):
    response = admin.post(
        "/agent/admin/fields/new/",
        {"type": "text", "title": "Order", "position": 0, "required_in_portal": "on"},
    )

    assert response.status_code == 400
    assert 'id="id_required_in_portal_error"' in response.content.decode()


# --- Views and macros ---------------------------------------------------------------------------


def test_a_view_combines_the_structured_choices_and_the_json_conditions(admin, personas):
    response = admin.post(
        "/agent/admin/views/new/",
        {"title": "Urgent in Support", "status_below": "solved", "group": personas.support.pk,
         "conditions": json.dumps({"all": [{"field": "priority", "operator": "is",
                                            "value": "urgent"}]}),
         "columns": ["id", "subject"], "sort_by": "created_at", "sort_order": "asc",
         "active": "on"},
    )  # fmt: skip

    assert response.status_code == 302
    view = View.objects.get(title="Urgent in Support")
    assert {c["field"] for c in view.conditions["all"]} == {"status", "group_id", "priority"}
    assert view.execution["sort_by"] == "created_at"


@pytest.mark.parametrize(
    ("conditions", "message"),
    [("{not json", "This is not valid JSON"), ('{"all": [{"field": "nope"}]}', "nope")],
)
def test_bad_view_conditions_are_explained_next_to_the_conditions(admin, db, conditions, message):
    response = admin.post(
        "/agent/admin/views/new/",
        {"title": "Broken", "conditions": conditions, "sort_by": "id", "sort_order": "desc"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_conditions_error"' in html and message in html
    assert not View.objects.exists()


def test_macros_are_created_from_json_actions_and_checked(admin, db):
    good = json.dumps([{"field": "status", "value": "solved"}])
    form = {"title": "Close it", "actions": good, "active": "on"}
    assert admin.post("/agent/admin/macros/new/", form).status_code == 302
    assert Macro.objects.get(title="Close it").actions == [{"field": "status", "value": "solved"}]

    bad = admin.post("/agent/admin/macros/new/", {"title": "Nothing", "actions": "[]"})
    assert bad.status_code == 400
    assert 'id="id_actions_error"' in bad.content.decode()


# --- Tags ---------------------------------------------------------------------------------------


def test_tags_are_listed_with_counts_renamed_and_deleted(admin, personas):
    for _n in range(2):
        create_ticket(actor=personas.alice,
                      data=TicketData(subject="x", requester=personas.bob, tags=["vip", "退货"]),
                      comment=NewComment(body="x"))  # fmt: skip

    html = admin.get("/agent/admin/tags/").content.decode()
    assert "vip" in html and "退货" in html

    assert admin.post(reverse("web_admin:rename_tag", args=["vip"]),
                      {"new_name": "gold"}).status_code == 302  # fmt: skip
    assert all(t.tags == ["gold", "退货"] or set(t.tags) == {"gold", "退货"}
               for t in Ticket.objects.all())  # fmt: skip
    assert admin.post(reverse("web_admin:delete_tag", args=["退货"])).status_code == 302
    assert [t.tags for t in Ticket.objects.all()] == [["gold"], ["gold"]]


def test_renaming_to_two_words_is_refused_next_to_the_field(admin, personas):
    create_ticket(actor=personas.alice,
                  data=TicketData(subject="x", requester=personas.bob, tags=["vip"]),
                  comment=NewComment(body="x"))  # fmt: skip

    response = admin.post(reverse("web_admin:rename_tag", args=["vip"]), {"new_name": "a b"})

    assert response.status_code == 400
    assert 'id="id_new_name_error"' in response.content.decode()


# --- Settings and branding ----------------------------------------------------------------------


def test_settings_change_auto_close_attachments_and_sign_up(admin, db):
    response = admin.post(
        "/agent/admin/settings/",
        {"auto_close_days": 7, "max_attachment_mb": 5, "blocked_extensions": "exe .BAT"},
    )

    assert response.status_code == 302
    settings = AccountSettings.load()
    assert (settings.auto_close_days, settings.max_attachment_mb) == (7, 5)
    assert settings.blocked_extensions == [".bat", ".exe"]
    assert settings.allow_registration is False


def test_branding_changes_the_name_colour_and_logo_everywhere(admin, client, personas):
    response = admin.post(
        "/agent/admin/branding/",
        {"company_name": "安心家电", "primary_color": "#aa3300",
         "logo": SimpleUploadedFile("logo.png", PNG, "image/png")},
    )  # fmt: skip

    assert response.status_code == 302
    portal = client.get("/portal/").content.decode()
    assert "安心家电" in portal and "--color-primary: #aa3300" in portal
    assert reverse("accounts:logo") in portal
    logo = client.get(reverse("accounts:logo"))
    assert b"".join(logo.streaming_content) == PNG
    assert "安心家电" in admin.get("/agent/").content.decode()


def test_a_bad_logo_is_refused_next_to_the_logo_field(admin, db):
    response = admin.post(
        "/agent/admin/branding/",
        {"company_name": "X", "primary_color": "#aa3300",
         "logo": SimpleUploadedFile("logo.svg", b"<svg/>", "image/svg+xml")},
    )  # fmt: skip

    assert response.status_code == 400
    assert 'id="id_logo_error"' in response.content.decode()
    assert not AccountSettings.load().logo


@pytest.mark.parametrize(
    "url_name", ["web_admin:index", "rules:triggers", "sla:policies", "sla:schedules"]
)
def test_admin_pages_of_every_app_show_one_current_admin_link(client, personas, url_name):
    client.force_login(personas.admin)
    html = client.get(reverse(url_name)).content.decode()
    topbar = html[html.index('class="topbar__nav"') : html.index("</nav>")]
    assert topbar.count("Admin settings") == 1
    assert 'aria-current="page">Admin settings' in topbar


def test_agent_pages_link_to_the_admin_settings_without_marking_them_current(client, personas):
    client.force_login(personas.admin)
    html = client.get(reverse("web:agent_home"), follow=True).content.decode()
    topbar = html[html.index('class="topbar__nav"') : html.index("</nav>")]
    assert topbar.count("Admin settings") == 1 and "aria-current" not in topbar
