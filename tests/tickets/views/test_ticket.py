"""The agent's ticket page: thread, composer, properties, macros, stale forms, presence."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.core import clock
from kefu.tickets.actions import (
    NewComment,
    TicketData,
    create_macro,
    create_ticket_field,
    update_ticket,
)
from kefu.tickets.models import Attachment, Comment, CustomStatus, Macro, Ticket

from .conftest import make_ticket


def page(client, ticket):  # type: ignore[no-untyped-def]
    return client.get(reverse("tickets:ticket", args=[ticket.pk]))


def form_data(response, **changes):  # type: ignore[no-untyped-def]
    """What the browser would post: every field as drawn, then the agent's changes."""
    form = response.context["form"]
    data: dict = {}
    for field in form:
        value = field.value()
        if value is None or value is False:
            value = ""
        if value is True:
            value = "on"
        data[field.html_name] = value
        if field.field.show_hidden_initial:
            initial = form.get_initial_for_field(field.field, field.name)
            if initial is True:
                initial = "on"
            data[f"initial-{field.html_name}"] = "" if initial in (None, False) else initial
    data = {k: v for k, v in data.items() if v != "" or k.startswith(("body", "initial-"))}
    data.update(changes)
    return data


def post(client, ticket, data, **extra):  # type: ignore[no-untyped-def]
    return client.post(reverse("tickets:ticket", args=[ticket.pk]), data, **extra)


def test_ticket_page_shows_replies_and_notes_differently(agent, personas):
    ticket = make_ticket(personas)
    update_ticket(
        ticket, actor=personas.alice, comment=NewComment(body="Checked the logs", public=False)
    )
    html = page(agent, ticket).content.decode()
    assert "It started smoking this morning." in html
    assert "thread__item thread__item--note" in html
    assert "Internal note" in html
    assert "via Web" in html
    assert "Submit as New" in html


def test_agent_outside_the_group_gets_404(agent, personas):
    billing = accounts.create_group(name="Billing")
    ticket = make_ticket(personas, group=billing)
    assert page(agent, ticket).status_code == 404
    assert agent.get(reverse("tickets:history", args=[ticket.pk])).status_code == 404
    assert agent.get(reverse("tickets:presence", args=[ticket.pk])).status_code == 404
    assert post(agent, ticket, {"body": "hi"}).status_code == 404


def test_public_reply_is_saved_and_the_page_redirects(agent, personas):
    ticket = make_ticket(personas)
    response = post(agent, ticket, form_data(page(agent, ticket), body="我们马上处理。"))
    assert response.status_code == 302
    comment = Comment.objects.filter(ticket=ticket).latest("created_at")
    assert comment.body == "我们马上处理。"
    assert comment.public
    assert comment.author == personas.alice


def test_internal_note_is_private(agent, personas):
    ticket = make_ticket(personas)
    post(agent, ticket, form_data(page(agent, ticket), body="Only for us", mode="internal"))
    comment = Comment.objects.filter(ticket=ticket).latest("created_at")
    assert not comment.public


def test_submit_as_another_status_changes_only_what_the_agent_changed(agent, personas):
    ticket = make_ticket(personas, priority="normal")
    pending = next(
        value
        for value, label in page(agent, ticket).context["status_choices"]
        if label == "Pending"
    )
    data = form_data(page(agent, ticket), body="Waiting for you", submit_status=pending)
    response = post(agent, ticket, data)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    assert ticket.priority == "normal"
    # the first agent to reply publicly owns the ticket (first-contact ownership, rules)
    assert ticket.assignee == personas.alice


def test_property_changes_are_saved_with_an_audit(agent, personas):
    ticket = make_ticket(personas)
    data = form_data(
        page(agent, ticket), priority="urgent", tags="vip 退货", assignee=str(personas.alice.pk)
    )
    assert post(agent, ticket, data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    assert ticket.tags == ["vip", "退货"]
    assert ticket.assignee == personas.alice
    changes = {e.field_name for a in ticket.audits.all() for e in a.events.all()}
    assert {"priority", "tags", "assignee_id"} <= changes


def test_an_assignee_outside_the_group_is_refused_next_to_the_field(agent, personas):
    other = accounts.create_user(
        name="Dan", email="dan@kefu.test", role=Role.AGENT,
        groups=[accounts.create_group(name="Billing")],
    )  # fmt: skip
    ticket = make_ticket(personas)
    response = post(agent, ticket, form_data(page(agent, ticket), assignee=str(other.pk), body="x"))
    assert response.status_code == 400
    assert response.context["form"].errors["assignee"]
    assert "x" in response.content.decode()  # the reply is kept
    assert not Comment.objects.filter(ticket=ticket, body="x").exists()


def test_nothing_to_save_is_explained(agent, personas):
    ticket = make_ticket(personas)
    response = post(agent, ticket, form_data(page(agent, ticket)))
    assert response.status_code == 200
    assert "Nothing to save" in response.content.decode()


def test_a_stale_form_is_not_applied_and_shows_what_changed(agent, personas):
    ticket = make_ticket(personas, priority="normal")
    drawn = page(agent, ticket)
    update_ticket(
        ticket, actor=personas.admin, data=TicketData(priority="high"),
        comment=NewComment(body="Admin was here"),
    )  # fmt: skip
    response = post(agent, ticket, form_data(drawn, body="My reply", tags="mine"))
    assert response.status_code == 409
    html = response.content.decode()
    assert "This ticket changed while you were working on it" in html
    assert "Admin" in html and "High" in html
    assert not Comment.objects.filter(ticket=ticket, body="My reply").exists()
    # the agent's input is kept, the other change is now what the form shows
    form = response.context["form"]
    assert form["body"].value() == "My reply"
    assert form["tags"].value() == "mine"
    assert form["priority"].value() == "high"
    # submitting again applies the reply and the agent's change, keeping the admin's
    again = post(agent, ticket, form_data(response))
    assert again.status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    assert ticket.tags == ["mine"]
    assert Comment.objects.filter(ticket=ticket, body="My reply").exists()


def test_a_broken_updated_at_asks_to_reload(agent, personas):
    ticket = make_ticket(personas)
    response = post(agent, ticket, form_data(page(agent, ticket), body="x", updated_at="soon"))
    assert response.status_code == 200
    assert "Reload the ticket" in response.content.decode()


def test_attachments_are_uploaded_with_the_reply(agent, personas):
    ticket = make_ticket(personas)
    data = form_data(page(agent, ticket), body="See attached")
    data["attachments"] = [SimpleUploadedFile("发票.pdf", b"%PDF-1.4 fake", "application/pdf")]
    assert post(agent, ticket, data).status_code == 302
    comment = Comment.objects.filter(ticket=ticket).latest("created_at")
    assert [a.file_name for a in comment.attachments.all()] == ["发票.pdf"]
    html = page(agent, ticket).content.decode()
    assert "发票.pdf" in html


def test_a_forbidden_attachment_is_refused_in_the_agents_language(agent, personas):
    accounts.update_user(personas.alice, locale="zh-hans")
    ticket = make_ticket(personas)
    data = form_data(page(agent, ticket), body="Here is the tool")
    data["attachments"] = [SimpleUploadedFile("tool.exe", b"MZ", "application/octet-stream")]
    response = post(agent, ticket, data)
    assert response.status_code == 400
    assert "不接受" in " ".join(response.context["form"].errors["attachments"])
    assert not Attachment.objects.exists()
    assert not Comment.objects.filter(body="Here is the tool").exists()


def test_an_oversized_attachment_is_refused(agent, personas):
    accounts.update_account_settings(max_attachment_mb=1)
    ticket = make_ticket(personas)
    data = form_data(page(agent, ticket), body="Big")
    data["attachments"] = [SimpleUploadedFile("big.bin", b"x" * (1024 * 1024 + 1))]
    response = post(agent, ticket, data)
    assert response.status_code == 400
    assert "larger than 1 MB" in " ".join(response.context["form"].errors["attachments"])


def test_applying_a_macro_previews_without_saving(agent, personas):
    macro = create_macro(
        actor=personas.admin,
        title="Ask for the order number",
        actions=[
            {"field": "status", "value": "pending"},
            {"field": "current_tags", "value": "need_info"},
            {"field": "comment_value", "value": "请提供订单号。"},
        ],
    )
    ticket = make_ticket(personas)
    data = form_data(page(agent, ticket), intent="macro", macro=str(macro.pk))
    response = post(agent, ticket, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Macro “Ask for the order number” applied" in html
    assert "请提供订单号。" in html
    ticket.refresh_from_db()
    assert ticket.status == "new"  # nothing saved yet
    assert Macro.objects.get(pk=macro.pk).usage_count == 0
    # submitting the previewed form applies it and counts the use
    assert post(agent, ticket, form_data(response)).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    assert "need_info" in ticket.tags
    assert Comment.objects.filter(ticket=ticket, body="请提供订单号。").exists()
    assert Macro.objects.get(pk=macro.pk).usage_count == 1


def test_applying_no_macro_or_someone_elses_is_refused(agent, personas):
    private = create_macro(
        actor=personas.admin, title="Mine", restriction="User",
        actions=[{"field": "priority", "value": "low"}],
    )  # fmt: skip
    ticket = make_ticket(personas)
    for choice in ("", str(private.pk), "abc"):
        response = post(agent, ticket, form_data(page(agent, ticket), intent="macro", macro=choice))
        assert response.status_code == 200
        assert "Choose a macro to apply." in response.content.decode()


def test_custom_fields_show_and_save(agent, personas):
    field = create_ticket_field(
        type="tagger",
        title="产品 Product",
        options=[
            {"name": "手表 Watch", "value": "watch"},
            {"name": "平板 Tablet", "value": "tablet"},
        ],
    )
    ticket = make_ticket(personas)
    drawn = page(agent, ticket)
    assert "产品 Product" in drawn.content.decode()
    assert post(agent, ticket, form_data(drawn, **{f"cf_{field.pk}": "watch"})).status_code == 302
    ticket.refresh_from_db()
    assert ticket.field_value(field.pk) == "watch"
    assert "watch" in ticket.tags


def test_customer_panel_shows_requester_organization_and_other_tickets(agent, personas):
    earlier = make_ticket(personas, "Earlier question")
    ticket = make_ticket(personas)
    html = page(agent, ticket).content.decode()
    assert "bob@acme.test" in html
    assert "Acme" in html
    assert f"#{earlier.pk} Earlier question" in html


def test_history_lists_who_changed_what(agent, personas):
    ticket = make_ticket(personas, priority="low")
    update_ticket(ticket, actor=personas.alice, data=TicketData(priority="urgent"))
    url = reverse("tickets:history", args=[ticket.pk])
    response = agent.get(url, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert "Priority" in html and "Low" in html and "Urgent" in html
    assert "Created the ticket" in html
    full = agent.get(reverse("tickets:history", args=[ticket.pk])).content.decode()
    assert "<html" in full


def test_presence_shows_other_agents_and_comments_since_the_page_opened(client, personas):
    other = accounts.create_user(
        name="Dan 丁", email="dan@kefu.test", role=Role.AGENT, groups=[personas.support]
    )
    ticket = make_ticket(personas)
    client.force_login(other)
    page(client, ticket)
    client.force_login(personas.alice)
    opened = page(client, ticket)
    assert "Dan 丁 is also viewing" in opened.content.decode()
    since = opened.context["since"]
    with clock.frozen_at(clock.now() + dt.timedelta(seconds=5)):
        update_ticket(ticket, actor=other, comment=NewComment(body="I'm on it"))
    poll = client.get(reverse("tickets:presence", args=[ticket.pk]), {"since": since})
    html = poll.content.decode()
    assert 'data-new-comments="1"' in html
    assert "Dan 丁 replied since you opened this ticket." in html


def test_presence_with_a_bad_since_does_not_fail(agent, personas):
    ticket = make_ticket(personas)
    response = agent.get(reverse("tickets:presence", args=[ticket.pk]), {"since": "yesterday"})
    assert response.status_code == 200
    assert 'data-new-comments="0"' in response.content.decode()


def test_closed_tickets_show_no_composer(agent, personas):
    ticket = make_ticket(personas, assignee=personas.alice, status="solved")
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="closed"))
    html = page(agent, ticket).content.decode()
    assert "This ticket is closed" in html
    assert "data-composer" not in html


def test_ticket_page_queries_do_not_grow_with_comments(
    agent, personas, django_assert_max_num_queries
):
    ticket = make_ticket(personas, tags=["a"])
    for i in range(30):
        update_ticket(
            ticket, actor=personas.alice if i % 2 else personas.bob,
            comment=NewComment(body=f"Message {i}", public=bool(i % 3)),
        )  # fmt: skip
    # + 1: the branding (web.admin context processor); + 1: the SLA badges
    with django_assert_max_num_queries(17):
        response = page(agent, ticket)
    assert response.status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).comments.count() == 31


def test_a_light_agent_adds_internal_notes_and_sees_properties_read_only(client, personas):
    lee = accounts.create_user(name="Lee 李", email="lee@kefu.test", role=Role.LIGHT_AGENT,
                               groups=[personas.support])  # fmt: skip
    ticket = make_ticket(personas)
    client.force_login(lee)
    response = page(client, ticket)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="public"' not in html and "Add internal note" in html
    assert response.context["form"].fields["priority"].disabled
    assert not response.context["macros"]
    # Whatever the browser posts, properties keep their values and the comment is a note.
    data = form_data(response, body="Warehouse: ships Monday", mode="public", priority="urgent")
    answer = post(client, ticket, data)
    assert answer.status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority != "urgent"
    note = Comment.objects.filter(ticket=ticket).latest("id")
    assert note.body == "Warehouse: ships Monday" and note.public is False
    # A forged status submit is refused, and nothing is written.
    solved = CustomStatus.objects.get(status_category="solved", default=True)
    data = form_data(page(client, ticket), body="and solve it", submit_status=str(solved.pk))
    count = Comment.objects.count()
    assert post(client, ticket, data).status_code == 403
    assert Comment.objects.count() == count
    # No "New ticket" for light agents, and the page refuses them.
    assert "New ticket" not in html
    assert client.get(reverse("tickets:new")).status_code == 403
