from kefu.channels.portal.timeline import status_timeline
from kefu.tickets.actions import NewComment, TicketData, create_ticket, update_ticket


def states(ticket):  # type: ignore[no-untyped-def]
    return [(step.key, step.state) for step in status_timeline(ticket)]


def test_a_new_request_is_received(personas):
    ticket = create_ticket(actor=personas.bob, data=TicketData(subject="Hi"),
                           comment=NewComment(body="x"))  # fmt: skip

    assert states(ticket) == [("received", "current"), ("in_progress", "upcoming"),
                              ("waiting", "upcoming"), ("solved", "upcoming")]  # fmt: skip


def test_waiting_for_the_customer_then_back_in_progress_after_their_reply(personas):
    ticket = create_ticket(actor=personas.bob, data=TicketData(subject="Hi"),
                           comment=NewComment(body="x"))  # fmt: skip
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="pending"),
                  comment=NewComment(body="Photo please"))  # fmt: skip
    ticket.refresh_from_db()
    assert states(ticket)[2] == ("waiting", "current")

    update_ticket(ticket, actor=personas.bob, comment=NewComment(body="Here"))
    ticket.refresh_from_db()
    steps = status_timeline(ticket)

    assert [(s.key, s.state) for s in steps][:3] == [
        ("received", "done"), ("in_progress", "current"), ("waiting", "upcoming")
    ]  # fmt: skip
    assert steps[0].reached_at == ticket.created_at
    assert steps[1].reached_at is not None


def test_hold_reads_as_in_progress_and_closed_as_solved(personas):
    ticket = create_ticket(actor=personas.alice,
                           data=TicketData(subject="Hi", requester=personas.bob, status="hold"),
                           comment=NewComment(body="x"))  # fmt: skip
    assert states(ticket)[1] == ("in_progress", "current")

    update_ticket(ticket, actor=personas.alice, data=TicketData(status="solved"))
    update_ticket(ticket, actor=None, data=TicketData(status="closed"))
    ticket.refresh_from_db()

    assert states(ticket)[3] == ("solved", "current")
