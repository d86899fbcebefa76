"""Fixtures for the agent's ticket screens: alice signed in, a view, tickets built by actions."""

import pytest

from kefu.tickets.actions import NewComment, TicketData, create_ticket, create_view

UNSOLVED = {"all": [{"field": "status", "operator": "less_than", "value": "solved"}], "any": []}


def make_ticket(p, subject="Printer on fire", **data):  # type: ignore[no-untyped-def]
    data.setdefault("requester", p.bob)
    data.setdefault("group", p.support)
    return create_ticket(
        actor=p.alice,
        data=TicketData(subject=subject, **data),
        comment=NewComment(body="It started smoking this morning."),
    )


@pytest.fixture
def agent(client, personas):  # type: ignore[no-untyped-def]
    client.force_login(personas.alice)
    return client


@pytest.fixture
def unsolved_view(personas):  # type: ignore[no-untyped-def]
    return create_view(actor=personas.admin, title="未解决 Unsolved", conditions=UNSOLVED)
