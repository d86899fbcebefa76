import pytest
from django.core.exceptions import ValidationError

from kefu.tickets.actions import (
    NewComment,
    TicketData,
    create_ticket,
    delete_tag,
    rename_tag,
    tag_counts,
    update_ticket,
)
from kefu.tickets.models import AuditEvent


def tagged(p, *tags):  # type: ignore[no-untyped-def]
    return create_ticket(actor=p.alice,
                         data=TicketData(subject="x", requester=p.bob, tags=list(tags)),
                         comment=NewComment(body="x"))  # fmt: skip


def test_tag_counts_list_the_most_used_first(personas):
    tagged(personas, "vip", "退货")
    tagged(personas, "vip")

    assert tag_counts() == [("vip", 2), ("退货", 1)]
    assert tag_counts(search="退") == [("退货", 1)]


def test_renaming_a_tag_changes_every_open_ticket_with_an_audit(personas):
    first, second = tagged(personas, "vip"), tagged(personas, "vip", "gold")

    assert rename_tag(actor=personas.admin, old="VIP", new="Gold") == 2

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.tags == ["gold"] and second.tags == ["gold"]
    assert AuditEvent.objects.filter(audit__ticket=first, field_name="tags").exists()


def test_closed_tickets_keep_their_tags(personas):
    closed = tagged(personas, "vip")
    update_ticket(closed, actor=personas.alice, data=TicketData(status="solved"))
    update_ticket(closed, actor=None, data=TicketData(status="closed"))

    assert delete_tag(actor=personas.admin, name="vip") == 0
    closed.refresh_from_db()
    assert closed.tags == ["vip"]


def test_a_new_name_must_be_one_word(personas):
    tagged(personas, "vip")

    with pytest.raises(ValidationError) as error:
        rename_tag(actor=personas.admin, old="vip", new="very important")

    assert "new_name" in error.value.message_dict
