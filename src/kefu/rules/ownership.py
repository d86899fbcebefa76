"""First-contact ownership (首问责任制): the agent who first takes a customer's problem stays
accountable for it until it is solved (docs/rules.md, "Ownership").

- The first agent to reply publicly to an unassigned ticket is assigned to it (if they are in
  the ticket's group, or it has none); a light agent never is.
- The ticket's first assignee (by reply, routing, a rule or a person) becomes its owner
  (``TicketOwner``). Reassigning the ticket inside the owner's group hands ownership over;
  assignments in another group (after an escalation) do not.
- When the ticket moves to a group the owner is not in (an escalation), the owner is added
  as a follower, so they see and are notified of every update (``notifications.py``), and
  stays the customer's point of contact (``{{ticket.owner.name}}`` in emails).
"""

from collections.abc import Sequence

from django.utils.translation import gettext as _

from kefu.accounts.choices import Role
from kefu.accounts.models import GroupMembership, User
from kefu.core import bulk
from kefu.tickets.actions import TicketData, update_ticket
from kefu.tickets.choices import Channel
from kefu.tickets.hooks import TicketChange

from .choices import NotificationKind
from .delivery import notify_in_app
from .models import TicketOwner


def _member(user_id: int, group_id: int | None) -> bool:
    return (
        group_id is not None
        and GroupMembership.objects.filter(user_id=user_id, group_id=group_id).exists()
    )


def keep_ownership(change: TicketChange) -> None:
    """The ``rules.ownership`` ticket hook."""
    if change.kind not in ("create", "update"):
        return
    ticket = change.ticket
    actor = change.actor
    comment = change.comment
    if (
        change.kind == "update"
        and change.depth == 0
        and comment is not None
        and comment.public
        and actor is not None
        and actor.is_agent
        and actor.role != Role.LIGHT_AGENT
        and ticket.assignee_id is None
        and (ticket.group_id is None or _member(actor.pk, ticket.group_id))
    ):
        # The nested update comes back here with the assignee set, and records the owner.
        update_ticket(
            ticket,
            actor=None,
            data=TicketData(
                assignee=actor, via_channel=Channel.RULE, via_source={"rel": "ownership"}
            ),
        )
        return
    assigned = change.changed("assignee_id") and ticket.assignee_id is not None
    regrouped = change.kind == "update" and change.changed("group_id")
    if not assigned and not regrouped:
        return
    owner = TicketOwner.objects.filter(ticket=ticket).first()
    if assigned:
        assignee_id: int = ticket.assignee_id  # type: ignore[assignment]
        if owner is None:
            TicketOwner.objects.create(ticket=ticket, owner_id=assignee_id)
        elif owner.owner_id != assignee_id and _member(owner.owner_id, ticket.group_id):
            owner.owner_id = assignee_id
            owner.save(update_fields=["owner"])
        return
    if (
        owner is not None
        and not _member(owner.owner_id, ticket.group_id)
        and not ticket.followers.filter(pk=owner.owner_id).exists()
    ):
        update_ticket(
            ticket,
            actor=None,
            data=TicketData(
                followers=[*ticket.followers.all(), owner.owner],
                via_channel=Channel.RULE,
                via_source={"rel": "ownership"},
            ),
        )
        notify_in_app(
            [owner.owner],
            kind=NotificationKind.FOLLOWER_UPDATE,
            subject=_("#%(id)s was escalated to %(group)s; you stay its owner")
            % {"id": ticket.pk, "group": ticket.group.name if ticket.group else "-"},
            ticket=ticket,
            actor=actor,
            email=(
                "[Escalated 已升级] #{{ticket.id}} {{ticket.title}}",
                "{{ticket.group.name}}\n{{ticket.url}}",
            ),
        )


def keep_ownership_many(changes: Sequence[TicketChange]) -> Sequence[TicketChange]:
    """``keep_ownership`` for a batch (``hooks.run_many``): the assignments are recorded with
    one read of the owners, one of the memberships and one insert; changes with a comment
    or a new group go through ``keep_ownership``."""
    assigned: list[TicketChange] = []
    left: list[TicketChange] = []
    for change in changes:
        if change.kind not in ("create", "update"):
            continue
        if change.comment is not None:
            left.append(change)
        elif change.changed("assignee_id") and change.ticket.assignee_id is not None:
            assigned.append(change)
        elif change.kind == "update" and change.changed("group_id"):
            left.append(change)
    if not assigned:
        return left
    owners = TicketOwner.objects.in_bulk([c.ticket.pk for c in assigned])
    handing_over = [
        (owners[c.ticket.pk], c.ticket)
        for c in assigned
        if c.ticket.pk in owners and owners[c.ticket.pk].owner_id != c.ticket.assignee_id
    ]
    members = (
        set(
            GroupMembership.objects.filter(
                user_id__in={owner.owner_id for owner, _t in handing_over}
            ).values_list("user_id", "group_id")
        )
        if handing_over
        else set()
    )
    new = [
        TicketOwner(ticket=c.ticket, owner=c.ticket.assignee)
        for c in assigned
        if c.ticket.pk not in owners
    ]
    bulk.insert(TicketOwner, new)
    for owner, ticket in handing_over:
        if (owner.owner_id, ticket.group_id) in members:
            owner.owner = ticket.assignee  # type: ignore[assignment]
            owner.save(update_fields=["owner"])
    return left


def ticket_owner(ticket_id: int) -> User | None:
    """The ticket's owner (the customer's point of contact), or None."""
    row = TicketOwner.objects.filter(ticket_id=ticket_id).select_related("owner").first()
    return row.owner if row else None
