"""Next and previous ticket across a whole view (j/k), found by the server."""

import re

from django.urls import reverse

from kefu.tickets.actions import TicketData, update_ticket

from .conftest import make_ticket


def subject_order(personas, count):  # type: ignore[no-untyped-def]
    """``count`` tickets; sorted by subject ascending, T00 comes first."""
    return [make_ticket(personas, f"T{i:02d}") for i in range(count)]


def neighbour(client, ticket, view, *, pos, step=1, sort="subject", order="asc"):  # type: ignore[no-untyped-def]
    url = reverse("tickets:neighbour", args=[ticket.pk])
    params = {"view": view.pk, "sort": sort, "order": order, "pos": pos, "step": step}
    return client.get(url, params)


def test_list_links_carry_the_view_order_and_position(agent, personas, unsolved_view):
    tickets = subject_order(personas, 3)
    url = reverse("tickets:view", args=[unsolved_view.pk])
    html = agent.get(url, {"sort": "subject", "order": "asc"}).content.decode()
    link = reverse("tickets:ticket", args=[tickets[2].pk])
    assert f'{link}?view={unsolved_view.pk}&amp;sort=subject&amp;order=asc&amp;pos=2"' in html


def test_next_ticket_crosses_the_page_boundary(agent, personas, unsolved_view):
    tickets = subject_order(personas, 32)
    # T29 is the last row of page one (30 a page); the next is the first of page two
    response = neighbour(agent, tickets[29], unsolved_view, pos=29)
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("tickets:ticket", args=[tickets[30].pk])
        + f"?view={unsolved_view.pk}&sort=subject&order=asc&pos=30"
    )


def test_previous_ticket_and_the_ticket_page_links_it(agent, personas, unsolved_view):
    tickets = subject_order(personas, 3)
    query = f"view={unsolved_view.pk}&sort=subject&order=asc&pos=1"
    html = agent.get(reverse("tickets:ticket", args=[tickets[1].pk]) + "?" + query).content
    assert b'data-neighbour="-1"' in html and b'data-neighbour="1"' in html
    response = neighbour(agent, tickets[1], unsolved_view, pos=1, step=-1)
    assert response["Location"].startswith(reverse("tickets:ticket", args=[tickets[0].pk]))


def test_when_the_ticket_left_the_view_the_one_now_in_its_place_is_next(
    agent, personas, unsolved_view
):
    tickets = subject_order(personas, 4)
    update_ticket(
        tickets[1], actor=personas.alice, data=TicketData(status="solved", assignee=personas.alice)
    )
    response = neighbour(agent, tickets[1], unsolved_view, pos=1)
    assert response["Location"].startswith(reverse("tickets:ticket", args=[tickets[2].pk]))
    assert re.search(r"pos=1$", response["Location"])


def test_a_new_ticket_ahead_does_not_make_next_repeat_the_current_one(
    agent, personas, unsolved_view
):
    tickets = subject_order(personas, 3)
    make_ticket(personas, "A first")  # sorts before T00: every position shifts by one
    response = neighbour(agent, tickets[1], unsolved_view, pos=1)
    assert response["Location"].startswith(reverse("tickets:ticket", args=[tickets[2].pk]))
    assert response["Location"].endswith("pos=3")


def test_after_the_last_ticket_next_goes_back_to_the_view(agent, personas, unsolved_view):
    tickets = subject_order(personas, 2)
    response = neighbour(agent, tickets[1], unsolved_view, pos=1)
    assert response["Location"].startswith(reverse("tickets:view", args=[unsolved_view.pk]))


def test_a_view_the_agent_may_not_see_gives_no_neighbour(client, personas, unsolved_view):
    from kefu.tickets.actions import create_view

    tickets = subject_order(personas, 2)
    private = create_view(
        actor=personas.admin,
        title="Admin's own",
        conditions={"all": [{"field": "status", "operator": "less_than", "value": "solved"}]},
        restriction="User",
    )
    client.force_login(personas.alice)
    response = neighbour(client, tickets[0], private, pos=0)
    assert response["Location"] == reverse("tickets:ticket", args=[tickets[0].pk])


def test_submitting_keeps_the_place_in_the_view(agent, personas, unsolved_view):
    ticket = make_ticket(personas)
    query = f"view={unsolved_view.pk}&sort=subject&order=asc&pos=4"
    url = reverse("tickets:ticket", args=[ticket.pk]) + "?" + query
    form = agent.get(url).context["form"]
    response = agent.post(
        url,
        {"updated_at": form["updated_at"].value(), "body": "On it.", "mode": "public",
         "status": form["status"].value(), "initial-status": form["status"].value()},
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"].endswith("?" + query)


def test_finding_the_neighbour_is_one_query_of_ids_whatever_the_view_holds(
    agent, personas, unsolved_view, django_assert_max_num_queries
):
    tickets = subject_order(personas, 40)
    # session, user, groups, the view, groups (scope), the ids around the position
    with django_assert_max_num_queries(6):
        response = neighbour(agent, tickets[35], unsolved_view, pos=35)
    assert response["Location"].startswith(reverse("tickets:ticket", args=[tickets[36].pk]))


def test_back_to_the_view_returns_to_the_page_and_order_the_ticket_was_on(
    agent, personas, unsolved_view
):
    ticket = make_ticket(personas)
    query = f"view={unsolved_view.pk}&sort=subject&order=asc&pos=31"
    html = agent.get(reverse("tickets:ticket", args=[ticket.pk]) + "?" + query).content.decode()
    back = reverse("tickets:view", args=[unsolved_view.pk])
    back += "?sort=subject&amp;order=asc&amp;page=2"
    assert f'class="ticket-header__back" href="{back}"' in html
