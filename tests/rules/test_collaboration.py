"""First-contact ownership, escalation, child tasks, light agents, in-app notifications."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.rules import actions as rules
from kefu.rules.models import Escalation, Notification
from kefu.rules.ownership import ticket_owner
from kefu.tickets.actions import NewComment, TicketData, add_comment, create_ticket, update_ticket
from kefu.tickets.models import Ticket


@pytest.fixture
def experts(personas):  # type: ignore[no-untyped-def]
    tier2 = accounts.create_group(name="Experts")
    frank = accounts.create_user(name="Frank 张", email="frank@kefu.test", role=Role.AGENT,
                                 groups=[tier2])  # fmt: skip
    return tier2, frank


def new_ticket(p) -> Ticket:  # type: ignore[no-untyped-def]
    ticket = create_ticket(
        actor=p.bob, data=TicketData(subject="Broken X200"), comment=NewComment(body="It stopped")
    )
    return update_ticket(ticket, actor=p.admin, data=TicketData(group=p.support))


def kinds(user) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        Notification.objects.filter(recipient=user).order_by("created_at", "id")
        .values_list("kind", flat=True)
    )  # fmt: skip


def test_the_first_agent_to_reply_publicly_becomes_assignee_and_owner(personas):
    ticket = new_ticket(personas)
    add_comment(ticket, actor=personas.alice, body="Sorry to hear that — let me check.")
    ticket.refresh_from_db()
    assert ticket.assignee == personas.alice
    assert ticket_owner(ticket.pk) == personas.alice


def test_an_internal_note_does_not_take_ownership(personas):
    ticket = new_ticket(personas)
    add_comment(ticket, actor=personas.alice, body="looking", public=False)
    ticket.refresh_from_db()
    assert ticket.assignee is None and ticket_owner(ticket.pk) is None


def test_a_reply_does_not_take_a_ticket_someone_was_assigned(personas):
    colleague = accounts.create_user(name="Gina", email="gina@kefu.test", role=Role.AGENT,
                                     groups=[personas.support])  # fmt: skip
    ticket = new_ticket(personas)
    update_ticket(ticket, actor=personas.admin, data=TicketData(assignee=colleague))
    add_comment(ticket, actor=personas.alice, body="Helping out")
    ticket.refresh_from_db()
    assert ticket.assignee == colleague and ticket_owner(ticket.pk) == colleague


def test_explicit_reassignment_in_the_group_hands_ownership_over(personas):
    colleague = accounts.create_user(name="Gina", email="gina@kefu.test", role=Role.AGENT,
                                     groups=[personas.support])  # fmt: skip
    ticket = new_ticket(personas)
    add_comment(ticket, actor=personas.alice, body="On it")
    update_ticket(ticket, actor=personas.alice, data=TicketData(assignee=colleague))
    assert ticket_owner(ticket.pk) == colleague


def test_escalation_keeps_the_owner_as_follower_notified_of_every_update(personas, experts):
    tier2, frank = experts
    ticket = new_ticket(personas)
    add_comment(ticket, actor=personas.alice, body="I'll get an expert")
    # when alice escalates to the experts
    ticket = rules.escalate_ticket(
        actor=personas.alice, ticket=ticket, group=tier2, reason="Needs firmware analysis"
    )
    # then the ticket left her plate but she stays owner and follower
    ticket.refresh_from_db()
    assert ticket.group == tier2 and ticket.assignee is None
    assert ticket_owner(ticket.pk) == personas.alice
    assert list(ticket.followers.all()) == [personas.alice]
    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.reason == "Needs firmware analysis" and escalation.to_group == tier2
    audit = ticket.audits.filter(via_source__rel="escalation").get()
    assert audit.via_source["reason"] == "Needs firmware analysis"
    # an expert takes it: ownership stays with alice, who hears about every update
    update_ticket(ticket, actor=frank, data=TicketData(assignee=frank))
    add_comment(ticket, actor=frank, body="Firmware 1.2 fixes it", public=True)
    assert ticket_owner(ticket.pk) == personas.alice
    assert kinds(personas.alice)[-2:] == ["follower_update", "follower_update"]


def test_an_escalation_needs_a_reason(personas, experts):
    tier2, _frank = experts
    with pytest.raises(ValidationError) as error:
        rules.escalate_ticket(actor=personas.alice, ticket=new_ticket(personas), group=tier2,
                              reason=" ")  # fmt: skip
    assert "reason" in error.value.message_dict


def test_assignment_and_mentions_create_in_app_notifications(personas, experts):
    _tier2, frank = experts
    colleague = accounts.create_user(name="Gina 李", email="gina@kefu.test", role=Role.AGENT,
                                     groups=[personas.support])  # fmt: skip
    ticket = new_ticket(personas)
    update_ticket(ticket, actor=personas.admin, data=TicketData(assignee=colleague))
    add_comment(
        ticket, actor=colleague, public=False,
        body="@Alice 王 can you check? cc @frank@kefu.test",
    )  # fmt: skip
    assert kinds(colleague) == ["assigned"]
    assert kinds(personas.alice) == ["mentioned"]
    assert kinds(frank) == ["mentioned"]
    note = Notification.objects.get(recipient=frank)
    assert note.subject == f"Gina 李 mentioned you on #{ticket.pk} Broken X200"


def test_notifications_are_marked_read_by_their_recipient_only(personas):
    ticket = new_ticket(personas)
    update_ticket(ticket, actor=personas.admin, data=TicketData(assignee=personas.alice))
    note = Notification.objects.get(recipient=personas.alice)
    with pytest.raises(Notification.DoesNotExist):
        rules.mark_notification_read(actor=personas.admin, notification=note)
    rules.mark_notification_read(actor=personas.alice, notification=note)
    note.refresh_from_db()
    assert note.read_at is not None
    assert rules.mark_all_notifications_read(actor=personas.alice) == 0


def test_child_tasks_go_to_another_group_and_the_owner_hears_when_all_are_done(personas, experts):
    tier2, frank = experts
    parent = new_ticket(personas)
    add_comment(parent, actor=personas.alice, body="We will arrange a repair")
    logistics = rules.open_child_task(actor=personas.alice, parent=parent, group=tier2,
                                      subject="Pick up the device", body="Courier please",
                                      assignee=frank)  # fmt: skip
    engineering = rules.open_child_task(actor=personas.alice, parent=parent, group=tier2,
                                        subject="Check firmware", body="Logs attached")  # fmt: skip
    assert logistics.type == "task" and logistics.assignee == frank
    assert [(t.subject, t.status) for t in rules.child_tasks(parent)] == [
        ("Pick up the device", "open"), ("Check firmware", "new"),
    ]  # fmt: skip
    assert parent.comments.filter(public=False, body__contains=f"#{logistics.pk}").exists()
    # when one task is solved nothing is said; when the last one is, the owner is told
    update_ticket(logistics, actor=frank, data=TicketData(status="solved"))
    assert "children_done" not in kinds(personas.alice)
    update_ticket(engineering, actor=frank, data=TicketData(status="solved", assignee=frank))
    assert kinds(personas.alice)[-1] == "children_done"


def test_light_agents_add_internal_notes_but_no_replies_and_no_field_changes(personas):
    lee = accounts.create_user(name="Lee", email="lee@kefu.test", role=Role.LIGHT_AGENT,
                               groups=[personas.support])  # fmt: skip
    ticket = new_ticket(personas)
    add_comment(ticket, actor=lee, body="Warehouse: the part ships Monday", public=False)
    with pytest.raises(PermissionDenied):
        add_comment(ticket, actor=lee, body="Dear customer", public=True)
    with pytest.raises(PermissionDenied):
        update_ticket(ticket, actor=lee, data=TicketData(priority="high"))
    ticket.refresh_from_db()
    assert ticket.priority is None
    assert list(ticket.comments.values_list("public", flat=True)) == [True, False]
    assert ticket.assignee is None  # a light agent's note takes no ownership


def test_light_agents_change_nothing_but_their_notes(personas, experts):
    """Every write path a full agent has is closed to a light agent, with PermissionDenied
    and nothing written: tickets (open, delete, restore, macros, escalate, child tasks),
    people and organizations."""
    from kefu.crm.access import can_manage_organizations
    from kefu.tickets.actions import apply_macro, create_macro, delete_ticket, restore_ticket

    tier2, _frank = experts
    lee = accounts.create_user(name="Lee", email="lee@kefu.test", role=Role.LIGHT_AGENT,
                               groups=[personas.support])  # fmt: skip
    ticket = new_ticket(personas)
    before = Ticket.objects.count()
    with pytest.raises(PermissionDenied):
        create_ticket(actor=lee, data=TicketData(subject="x", requester=personas.bob),
                      comment=NewComment(body="y"))  # fmt: skip
    with pytest.raises(PermissionDenied):
        delete_ticket(ticket, actor=lee)
    delete_ticket(ticket, actor=personas.alice)
    with pytest.raises(PermissionDenied):
        restore_ticket(ticket, actor=lee)
    restore_ticket(ticket, actor=personas.alice)
    macro = create_macro(actor=personas.admin, title="Close",
                         actions=[{"field": "status", "value": "solved"}])  # fmt: skip
    with pytest.raises(PermissionDenied):
        apply_macro(ticket, macro, actor=lee)
    with pytest.raises(PermissionDenied):
        rules.escalate_ticket(actor=lee, ticket=ticket, group=tier2, reason="Too hard")
    with pytest.raises(PermissionDenied):
        rules.open_child_task(actor=lee, parent=ticket, group=tier2, subject="Ship it",
                                body="Please")  # fmt: skip
    assert Ticket.objects.count() == before
    ticket.refresh_from_db()
    assert ticket.group == personas.support and ticket.deleted_at is None
    # People: a light agent edits no customer (only their own profile) and no organization.
    with pytest.raises(PermissionDenied):
        accounts.check_can_change_person(lee, target=personas.bob, changes=["name"])
    accounts.check_can_change_person(lee, target=lee, changes=["name"])
    accounts.check_can_change_person(personas.alice, target=personas.bob, changes=["name"])
    with pytest.raises(PermissionDenied):
        accounts.delete_user(personas.bob, actor=lee)
    assert not can_manage_organizations(lee) and can_manage_organizations(personas.alice)
