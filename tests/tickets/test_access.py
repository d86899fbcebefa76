import pytest

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.crm import actions as crm
from kefu.tickets.access import (
    access_ticket,
    can_comment,
    visible_attachments,
    visible_comments,
    visible_tickets,
)
from kefu.tickets.actions import NewComment, TicketData, add_comment, create_ticket
from kefu.tickets.models import Attachment, Ticket


def ticket_for(p, requester, **data):  # type: ignore[no-untyped-def]
    return create_ticket(
        actor=p.alice,
        data=TicketData(subject=f"Request from {requester.name}", requester=requester, **data),
        comment=NewComment(body="Help"),
    )


def test_end_users_see_only_their_own_tickets(personas):
    bobs = ticket_for(personas, personas.bob)
    carols = ticket_for(personas, personas.carol)
    assert list(visible_tickets(personas.bob)) == [bobs]
    assert list(visible_tickets(personas.carol)) == [carols]


def test_carol_gets_not_found_for_an_acme_ticket(personas):
    bobs = ticket_for(personas, personas.bob)
    with pytest.raises(Ticket.DoesNotExist):
        access_ticket(personas.carol, bobs.pk)


def test_organization_members_see_each_others_tickets_only_when_shared(personas):
    dora = accounts.create_user(name="Dora 赵", email="dora@acme.test")
    doras = ticket_for(personas, dora)
    assert doras.organization == personas.acme
    assert not visible_tickets(personas.bob).filter(pk=doras.pk).exists()

    crm.update_organization(personas.acme, shared_tickets=True)
    assert visible_tickets(personas.bob).filter(pk=doras.pk).exists()
    assert not visible_tickets(personas.carol).filter(pk=doras.pk).exists()
    # seeing is not commenting unless comments are shared too
    assert not can_comment(personas.bob, doras)
    crm.update_organization(personas.acme, shared_comments=True)
    doras.organization.refresh_from_db()
    assert can_comment(personas.bob, doras)


def test_ccd_end_users_see_the_ticket(personas):
    ticket = ticket_for(personas, personas.bob, email_ccs=[personas.carol])
    assert visible_tickets(personas.carol).filter(pk=ticket.pk).exists()


def test_agents_see_their_groups_tickets_and_the_unsorted_queue_but_not_other_groups(personas):
    billing = accounts.create_group(name="Billing")
    accounts.create_user(name="Eve", email="eve@kefu.test", role=Role.AGENT, groups=[billing])
    support_ticket = ticket_for(personas, personas.bob, group=personas.support)
    billing_ticket = ticket_for(personas, personas.bob, group=billing)
    unsorted = ticket_for(personas, personas.bob)
    assert set(visible_tickets(personas.alice)) == {support_ticket, unsorted}
    with pytest.raises(Ticket.DoesNotExist):
        access_ticket(personas.alice, billing_ticket.pk)
    assert set(visible_tickets(personas.admin)) == {support_ticket, billing_ticket, unsorted}


def test_suspended_people_see_nothing(personas):
    ticket_for(personas, personas.bob)
    accounts.update_user(personas.bob, suspended=True)
    assert not visible_tickets(personas.bob).exists()


def test_internal_notes_never_reach_end_users(personas):
    ticket = ticket_for(personas, personas.bob)
    add_comment(ticket, actor=personas.alice, body="内部备注: refund approved", public=False)
    add_comment(ticket, actor=personas.alice, body="We are on it.")
    bodies_for_bob = [c.body for c in visible_comments(personas.bob, ticket)]
    bodies_for_alice = [c.body for c in visible_comments(personas.alice, ticket)]
    assert "内部备注: refund approved" not in bodies_for_bob
    assert "We are on it." in bodies_for_bob
    assert "内部备注: refund approved" in bodies_for_alice


def test_attachments_follow_their_comments_visibility(personas, tmp_path):
    from django.core.files.base import ContentFile

    def upload(name):  # type: ignore[no-untyped-def]
        attachment = Attachment(
            uploader=personas.alice, file_name=name, content_type="text/plain", size=2
        )
        attachment.save()
        attachment.file.save(name, ContentFile(b"hi"), save=True)
        return attachment

    ticket = ticket_for(personas, personas.bob)
    public_file, private_file = upload("public.txt"), upload("private.txt")
    add_comment(ticket, actor=personas.alice, body="see file", attachments=[public_file])
    add_comment(ticket, actor=personas.alice, body="note", public=False, attachments=[private_file])
    assert set(visible_attachments(personas.bob)) == {public_file}
    assert set(visible_attachments(personas.alice)) == {public_file, private_file}
    assert not visible_attachments(personas.carol).exists()
