"""The rules ``update_ticket`` and its batch form ``update_tickets`` share, written once.

Both apply a ``TicketData`` to a locked ticket in memory, recording each change with
``change(name, new, old)`` (which records only real changes). They differ in how they learn
group memberships: ``update_ticket`` asks the database (``QueriedMemberships``), the batch
reads every membership it may need in one query (``ReadMemberships``).
"""

from collections.abc import Callable
from typing import Any, Protocol

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from kefu.accounts.choices import Role
from kefu.accounts.models import Group, GroupMembership, User

from ..choices import Priority, Status, TicketType
from ..models import Ticket
from .checks import check_choice, check_person, field_error
from .data import END_USER_UPDATE_FIELDS, TicketData

Change = Callable[[str, Any, Any], None]
_VIA = frozenset({"via_channel", "via_source"})


def fields_set(data: TicketData) -> set[str]:
    """The fields a caller set, with ``add_tags``/``remove_tags`` when they are not empty."""
    names = set(data.model_fields_set)
    if data.add_tags:
        names.add("add_tags")
    if data.remove_tags:
        names.add("remove_tags")
    return names


def check_changeable(ticket: Ticket, actor: User | None, data: TicketData, names: set[str]) -> None:
    """Refuse a change to a deleted or closed ticket, and fields the actor may not change."""
    if ticket.deleted_at is not None:
        raise field_error("ticket", _("This ticket was deleted."))
    if ticket.status == Status.CLOSED:
        raise field_error(
            "status", _("Closed tickets cannot be changed; open a follow-up instead.")
        )
    if actor is not None and actor.is_end_user:
        forbidden = names - END_USER_UPDATE_FIELDS
        if forbidden:
            raise PermissionDenied(
                _("Customers cannot change %(f)s.") % {"f": ", ".join(sorted(forbidden))}
            )
        if "status" in names and data.status != Status.SOLVED:
            raise PermissionDenied(_("Customers can only mark their request as solved."))
    if actor is not None and actor.role == Role.LIGHT_AGENT and names - _VIA:
        raise PermissionDenied(_("Light agents cannot change ticket fields."))


class Memberships(Protocol):
    def has(self, user_id: int, group_id: int | None) -> bool: ...


class QueriedMemberships:
    """Memberships asked of the database, each pair at most once."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, int], bool] = {}

    def has(self, user_id: int, group_id: int | None) -> bool:
        if group_id is None:
            return False
        key = (user_id, group_id)
        if key not in self._known:
            self._known[key] = GroupMembership.objects.filter(
                user_id=user_id, group_id=group_id
            ).exists()
        return self._known[key]


class ReadMemberships:
    """The memberships of the given people, read in one query."""

    def __init__(self, user_ids: set[int]) -> None:
        self.pairs: set[tuple[int, int]] = (
            set(
                GroupMembership.objects.filter(user_id__in=user_ids).values_list(
                    "user_id", "group_id"
                )
            )
            if user_ids
            else set()
        )

    def has(self, user_id: int, group_id: int | None) -> bool:
        return group_id is not None and (user_id, group_id) in self.pairs


def apply_priority_and_type(
    ticket: Ticket, data: TicketData, names: set[str], change: Change
) -> None:
    if "priority" in names:
        check_choice("priority", data.priority, Priority.values, nullable=True)
        change("priority", data.priority, ticket.priority)
        ticket.priority = data.priority
    if "type" in names:
        check_choice("type", data.type, TicketType.values, nullable=True)
        change("type", data.type, ticket.type)
        ticket.type = data.type


def apply_group_and_assignee(
    ticket: Ticket,
    data: TicketData,
    names: set[str],
    change: Change,
    *,
    members: Memberships,
    default_group: Callable[[User], Group | None],
    now: Any,
) -> None:
    """The group and the assignee: an assignee without a group brings their default group,
    a new assignee stamps ``assigned_at``, a move to another group drops an assignee who is
    not in it, and an assignee must belong to the ticket's group (Zendesk refuses it too)."""
    if "group" in names:
        change("group_id", data.group.pk if data.group else None, ticket.group_id)
        ticket.group = data.group
    if "assignee" in names:
        check_person("assignee_id", data.assignee, agent=True)
        if data.assignee is not None and "group" not in names:
            in_group = members.has(data.assignee.pk, ticket.group_id)
            if not in_group and ticket.group_id is None:
                ticket.group = default_group(data.assignee)
                change("group_id", ticket.group.pk if ticket.group else None, None)
        if data.assignee is not None and data.assignee.pk != ticket.assignee_id:
            ticket.assigned_at = now
        change("assignee_id", data.assignee.pk if data.assignee else None, ticket.assignee_id)
        ticket.assignee = data.assignee
    elif (
        "group" in names
        and ticket.assignee_id is not None
        and ticket.group_id is not None
        and not members.has(ticket.assignee_id, ticket.group_id)
    ):
        # Moving to another group keeps the assignee only if they belong to it.
        change("assignee_id", None, ticket.assignee_id)
        ticket.assignee = None
    if (
        ticket.assignee_id is not None
        and ticket.group_id is not None
        and not members.has(ticket.assignee_id, ticket.group_id)
    ):
        assignee, group = ticket.assignee, ticket.group
        assert assignee is not None and group is not None
        raise field_error(
            "assignee_id",
            _("%(name)s is not a member of the group %(group)s.")
            % {"name": assignee.name, "group": group.name},
        )


def stamp_update(ticket: Ticket, actor: User | None, now: Any) -> None:
    """A change was made: ``updated_at``, and the requester's or assignee's own timestamp
    when they made it (Zendesk's ``requester_updated_at``/``assignee_updated_at``)."""
    ticket.updated_at = now
    if actor is not None and actor.pk == ticket.requester_id:
        ticket.requester_updated_at = now
    if actor is not None and actor.pk == ticket.assignee_id:
        ticket.assignee_updated_at = now
