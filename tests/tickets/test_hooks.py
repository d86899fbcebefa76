"""The ticket-change hooks: called inside the change, in order, with depth for nested changes."""

import pytest
from django.core.exceptions import ValidationError

from kefu.tickets import hooks
from kefu.tickets.actions import NewComment, TicketData, create_ticket, delete_ticket, update_ticket
from kefu.tickets.choices import Channel
from kefu.tickets.models import Ticket


@pytest.fixture
def recorded():
    seen: list[hooks.TicketChange] = []
    hooks.register("test.record", seen.append, order=10_000)
    try:
        yield seen
    finally:
        hooks._hooks.pop("test.record")


def new_ticket(p) -> Ticket:  # type: ignore[no-untyped-def]
    return create_ticket(
        actor=p.alice,
        data=TicketData(subject="退款 / Refund", requester=p.bob),
        comment=NewComment(body="Please refund order 42."),
    )


def test_create_update_and_delete_each_run_the_hooks_with_their_events(personas, recorded):
    # when
    ticket = new_ticket(personas)
    update_ticket(ticket, actor=personas.alice, data=TicketData(priority="high"))
    delete_ticket(ticket, actor=personas.alice)
    # then
    assert [c.kind for c in recorded] == ["create", "update", "delete"]
    created, updated, deleted = recorded
    assert created.comment is not None and created.comment.body == "Please refund order 42."
    assert created.audit.ticket_id == ticket.pk and created.depth == 0
    assert updated.changed("priority") and updated.previous("priority") is None
    assert not updated.changed("status") and updated.comment is None
    assert deleted.events[0].value == "deleted"


def test_an_update_that_changes_nothing_runs_no_hook(personas, recorded):
    ticket = new_ticket(personas)
    update_ticket(ticket, actor=personas.alice, data=TicketData(priority=None))
    assert [c.kind for c in recorded] == ["create"]


def test_a_change_made_by_a_hook_runs_the_hooks_again_one_level_deeper(personas, recorded):
    def tag_urgent(change: hooks.TicketChange) -> None:
        if change.depth == 0 and change.ticket.priority == "urgent":
            update_ticket(
                change.ticket,
                actor=None,
                data=TicketData(add_tags=["escalated"], via_channel=Channel.RULE),
            )

    hooks.register("test.tag_urgent", tag_urgent, order=1)
    try:
        ticket = new_ticket(personas)
        update_ticket(ticket, actor=personas.alice, data=TicketData(priority="urgent"))
    finally:
        hooks._hooks.pop("test.tag_urgent")
    ticket.refresh_from_db()
    assert ticket.tags == ["escalated"]
    # the nested change is seen first (it finished inside the outer one), one level deeper
    assert [(c.kind, c.depth, c.via_channel) for c in recorded] == [
        ("create", 0, "web"),
        ("update", 1, "rule"),
        ("update", 0, "web"),
    ]
    # and it joined the outer change's audit, its events marked with their own via
    outer, inner = recorded[2], recorded[1]
    assert inner.audit.pk == outer.audit.pk
    assert ticket.audits.count() == 2
    tag_event = outer.audit.events.get(field_name="tags")
    assert tag_event.via == {"channel": "rule", "source": {}}
    assert outer.audit.events.get(field_name="priority").via is None


def test_a_hook_changing_another_ticket_writes_that_ticket_its_own_audit(personas):
    other = new_ticket(personas)

    def touch_other(change: hooks.TicketChange) -> None:
        if change.depth == 0 and change.ticket.pk != other.pk:
            update_ticket(other, actor=None, data=TicketData(add_tags=["linked"]))

    hooks.register("test.touch_other", touch_other, order=1)
    try:
        ticket = new_ticket(personas)
    finally:
        hooks._hooks.pop("test.touch_other")
    assert other.audits.count() == 2
    assert ticket.audits.count() == 1


def test_a_hook_that_raises_undoes_the_whole_change(personas):
    def refuse(change: hooks.TicketChange) -> None:
        raise ValidationError({"status": ["refused by a rule"]})

    ticket = new_ticket(personas)
    hooks.register("test.refuse", refuse)
    try:
        with pytest.raises(ValidationError):
            update_ticket(ticket, actor=personas.alice, data=TicketData(priority="low"))
    finally:
        hooks._hooks.pop("test.refuse")
    ticket.refresh_from_db()
    assert ticket.priority is None
    assert ticket.audits.count() == 1


def test_paused_hooks_are_not_called(personas, recorded):
    with hooks.paused():
        new_ticket(personas)
    assert recorded == []


def test_registering_another_hook_under_a_taken_name_is_refused():
    hooks.register("test.once", print)
    try:
        with pytest.raises(ValueError, match="already registered"):
            hooks.register("test.once", repr)
    finally:
        hooks._hooks.pop("test.once")
