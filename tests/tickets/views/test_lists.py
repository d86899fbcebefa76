"""The view list, its sidebar counts and bulk updates."""

from django.urls import reverse

from kefu.accounts import actions as accounts
from kefu.tickets.actions import TicketData, update_ticket
from kefu.tickets.models import Ticket

from .conftest import make_ticket


def test_agent_home_opens_the_first_view(agent, unsolved_view):
    response = agent.get("/agent/")
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:view", args=[unsolved_view.pk])


def test_view_lists_its_tickets_with_status_and_priority_badges(agent, personas, unsolved_view):
    ticket = make_ticket(personas, "打印机着火了", priority="urgent")
    response = agent.get(reverse("tickets:view", args=[unsolved_view.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "打印机着火了" in html
    assert 'class="badge badge--new"' in html
    assert 'class="badge badge--urgent"' in html
    assert reverse("tickets:ticket", args=[ticket.pk]) in html
    assert "未解决 Unsolved" in html


def test_view_hides_tickets_of_groups_the_agent_is_not_in(agent, personas, unsolved_view):
    billing = accounts.create_group(name="Billing")
    make_ticket(personas, "Invoice question", group=billing)
    html = agent.get(reverse("tickets:view", args=[unsolved_view.pk])).content.decode()
    assert "Invoice question" not in html


def test_columns_sort_both_ways(agent, personas, unsolved_view):
    make_ticket(personas, "Alpha")
    make_ticket(personas, "Zulu")
    url = reverse("tickets:view", args=[unsolved_view.pk])
    ascending = agent.get(url, {"sort": "subject", "order": "asc"}).content.decode()
    descending = agent.get(url, {"sort": "subject", "order": "desc"}).content.decode()
    assert ascending.index("Alpha") < ascending.index("Zulu")
    assert descending.index("Zulu") < descending.index("Alpha")
    assert 'aria-sort="descending"' in descending


def test_unknown_sort_and_page_fall_back_instead_of_failing(agent, personas, unsolved_view):
    make_ticket(personas, "Still listed")
    url = reverse("tickets:view", args=[unsolved_view.pk])
    response = agent.get(url, {"sort": "password", "order": "sideways", "page": "x"})
    assert response.status_code == 200
    assert "Still listed" in response.content.decode()


def test_pages_hold_thirty_tickets(agent, personas, unsolved_view):
    for i in range(31):
        make_ticket(personas, f"Ticket number {i:02d}")
    url = reverse("tickets:view", args=[unsolved_view.pk])
    first = agent.get(url, {"sort": "subject", "order": "asc"}).content.decode()
    second = agent.get(url, {"sort": "subject", "order": "asc", "page": 2}).content.decode()
    assert "Ticket number 29" in first and "Ticket number 30" not in first
    assert "Ticket number 30" in second
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_htmx_request_gets_only_the_table(agent, personas, unsolved_view):
    make_ticket(personas)
    url = reverse("tickets:view", args=[unsolved_view.pk])
    html = agent.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in html
    assert "Printer on fire" in html


def test_a_view_the_agent_may_not_see_is_not_found(agent, personas):
    from kefu.tickets.actions import create_view

    private = create_view(
        actor=personas.admin,
        title="Admin's own",
        conditions={"all": [{"field": "status", "operator": "is", "value": "new"}]},
        restriction="User",
    )
    assert agent.get(reverse("tickets:view", args=[private.pk])).status_code == 404


def test_sidebar_counts_each_view(agent, personas, unsolved_view):
    make_ticket(personas)
    make_ticket(personas)
    response = agent.get(reverse("tickets:view_counts"), {"current": unsolved_view.pk})
    html = response.content.decode()
    assert '<span class="sidebar__count"' in html
    assert ">2</span>" in html
    assert 'aria-current="page"' in html


def test_sidebar_counts_are_cached_until_a_ticket_changes(
    agent, personas, unsolved_view, django_assert_num_queries
):
    make_ticket(personas)
    url = reverse("tickets:view_counts")
    assert ">1</span>" in agent.get(url).content.decode()
    # cached: no COUNT on the next poll (session, user, groups, views, stamp, branding)
    with django_assert_num_queries(6) as ctx:
        assert ">1</span>" in agent.get(url).content.decode()
    assert not any("COUNT(" in q["sql"] for q in ctx.captured_queries)
    ticket = make_ticket(personas)
    assert ">2</span>" in agent.get(url).content.decode()
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="solved"))
    assert ">1</span>" in agent.get(url).content.decode()


def test_sidebar_counts_are_per_agent(client, personas, unsolved_view):
    billing = accounts.create_group(name="Billing")
    make_ticket(personas, "Invoice question", group=billing)
    client.force_login(personas.admin)
    assert ">1</span>" in client.get(reverse("tickets:view_counts")).content.decode()
    client.force_login(personas.alice)
    assert ">0</span>" in client.get(reverse("tickets:view_counts")).content.decode()


def test_view_list_queries_do_not_grow_with_tickets(
    agent, personas, unsolved_view, django_assert_max_num_queries
):
    for i in range(40):
        make_ticket(personas, f"Ticket {i}", assignee=personas.alice, priority="high")
    # + 1: the branding (web.admin context processor); + 1: the SLA badges of the whole page
    with django_assert_max_num_queries(11):
        response = agent.get(reverse("tickets:view", args=[unsolved_view.pk]))
    assert response.status_code == 200


def test_bulk_update_changes_each_selected_ticket_through_update_ticket(agent, personas):
    first, second, untouched = (make_ticket(personas, f"T{i}") for i in range(3))
    response = agent.post(
        reverse("tickets:bulk_update"),
        {
            "ticket_ids": [first.pk, second.pk],
            "priority": "high",
            "assignee": personas.alice.pk,
            "add_tags": "vip 退货",
            "next": "/agent/",
        },
    )
    assert response.status_code == 302
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert ticket.priority == "high"
        assert ticket.assignee_id == personas.alice.pk
        assert ticket.status == "open"  # assigning opens a new ticket
        assert {"vip", "退货"} <= set(ticket.tags)
        assert ticket.audits.count() == 2
    untouched.refresh_from_db()
    assert untouched.priority is None
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "Updated 2 tickets." in messages


def test_bulk_update_reports_each_ticket_that_refuses(agent, personas):
    fine = make_ticket(personas, "Fine")
    closed = make_ticket(personas, "Closed one", assignee=personas.alice, status="solved")
    update_ticket(closed, actor=personas.alice, data=TicketData(status="closed"))
    billing = accounts.create_group(name="Billing")
    hidden = make_ticket(personas, "Hidden", group=billing)
    response = agent.post(
        reverse("tickets:bulk_update"),
        {"ticket_ids": [fine.pk, closed.pk, hidden.pk], "priority": "low"},
        follow=True,
    )
    html = response.content.decode()
    assert "Updated 1 ticket." in html
    assert f"#{closed.pk}: Closed tickets cannot be changed" in html
    assert f"#{hidden.pk}: not found." in html
    assert Ticket.objects.get(pk=hidden.pk).priority is None


def test_bulk_update_without_a_change_or_a_selection_explains_what_is_missing(agent, personas):
    ticket = make_ticket(personas)
    nothing = agent.post(reverse("tickets:bulk_update"), {"ticket_ids": [ticket.pk]}, follow=True)
    assert "Choose at least one change to apply." in nothing.content.decode()
    none_selected = agent.post(reverse("tickets:bulk_update"), {"priority": "low"}, follow=True)
    assert "Select at least one ticket." in none_selected.content.decode()


def test_bulk_update_needs_csrf(client, personas):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(personas.alice)
    ticket = make_ticket(personas)
    response = csrf_client.post(
        reverse("tickets:bulk_update"), {"ticket_ids": [ticket.pk], "priority": "low"}
    )
    assert response.status_code == 403


def test_end_users_cannot_bulk_update(client, personas):
    ticket = make_ticket(personas)
    client.force_login(personas.bob)
    response = client.post(
        reverse("tickets:bulk_update"), {"ticket_ids": [ticket.pk], "priority": "low"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    ticket.refresh_from_db()
    assert ticket.priority is None
