"""Changing many tickets at once: ``update_tickets``, the batch form of ``update_ticket``.

Routing assigns a queue of tickets, one audited change each. Through ``update_ticket`` every
assignment costs ~30 queries (the row lock, membership checks, the audit, and each hook's
reads and writes); here a batch is read and written in a fixed number of queries — one
locking read, one membership read, one UPDATE (``executemany``), one insert each for the
audits and their events — and the hooks run once per batch (``hooks.run_many``). The result
is the one ``update_ticket`` would leave, ticket by ticket: the same validation, fields,
audits (one per ticket, same author, via and events), ``updated_at`` handling and hook
outcomes (docs/tickets.md, "Changing many tickets at once").

Only simple fields are batched (``BATCH_FIELDS``: assignee, group, priority, type); a
change with a comment, tags, custom fields, status or people other than the assignee goes
through ``update_ticket``.
"""

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from kefu.accounts.actions import normalize_tags
from kefu.accounts.models import Group, User
from kefu.core import bulk, clock, configcache
from kefu.core.ids import allocate_ids

from .. import hooks
from ..choices import Channel, Status, TicketType
from ..models import Audit, AuditEvent, CustomStatus, Ticket
from . import changes as shared
from .audit import AuditWriter, sync_tag_rows
from .checks import check_choice
from .data import TicketData
from .fields import default_custom_status

# What ``update_tickets`` applies: the fields routing and bulk assignment need.
BATCH_FIELDS = frozenset({"assignee", "group", "priority", "type", "via_channel", "via_source"})
_VIA = frozenset({"via_channel", "via_source"})

# The columns ``update_ticket`` can change for BATCH_FIELDS, written for every ticket changed.
_COLUMNS = (
    "priority",
    "type",
    "due_at",
    "group",
    "assignee",
    "assigned_at",
    "tags",
    "status",
    "custom_status",
    "status_updated_at",
    "solved_at",
    "updated_at",
    "requester_updated_at",
    "assignee_updated_at",
)


class _Statuses:
    """``default_custom_status``, read at most once per category for the batch."""

    def __init__(self) -> None:
        self._by_category: dict[str, CustomStatus] = {}

    def default(self, category: str) -> CustomStatus:
        if category not in self._by_category:
            self._by_category[category] = default_custom_status(category)
        return self._by_category[category]


def _apply(
    ticket: Ticket,
    data: TicketData,
    fields_set: set[str],
    *,
    actor: User | None,
    members: shared.ReadMemberships,
    default_groups: dict[int, Group],
    statuses: _Statuses,
    now: Any,
) -> tuple[AuditWriter, list[str]] | None:
    """``update_ticket``'s rules for BATCH_FIELDS, in its order, on ``ticket`` in memory;
    the audit with its events and the tags before, or None when nothing changed."""
    via_channel = data.via_channel or Channel.WEB
    check_choice("via_channel", via_channel, Channel.values, nullable=False)
    audit = AuditWriter(
        ticket,
        author=actor,
        via_channel=via_channel,
        via_source=data.via_source or {},
        created_at=now,
        join=hooks.open_audit(ticket.pk),
    )
    previous_tags = list(ticket.tags)

    def change(name: str, new: Any, old: Any) -> None:
        if new != old:
            audit.change(name, new, old)

    shared.apply_priority_and_type(ticket, data, fields_set, change)
    if ticket.type != TicketType.TASK and ticket.due_at is not None:
        ticket.due_at = None
    shared.apply_group_and_assignee(
        ticket,
        data,
        fields_set,
        change,
        members=members,
        default_group=lambda user: default_groups.get(user.default_group_id or 0),
        now=now,
    )

    # update_ticket normalizes the tags on every change.
    ticket.tags = normalize_tags(list(ticket.tags))
    if ticket.tags != previous_tags:
        audit.change("tags", ticket.tags, previous_tags)

    # Status: assigning a new ticket opens it.
    if ticket.status == Status.NEW and ticket.assignee_id is not None:
        custom_status = statuses.default(Status.OPEN)
        audit.change("status", Status.OPEN, ticket.status)
        ticket.status_updated_at = now
        ticket.solved_at = None
        change("custom_status_id", custom_status.pk, ticket.custom_status_id)
        ticket.status = Status.OPEN
        ticket.custom_status = custom_status

    if not audit.events:
        return None
    shared.stamp_update(ticket, actor, now)
    return audit, previous_tags


def _write_tickets(tickets: Sequence[Ticket]) -> None:
    """One UPDATE for all changed tickets: the columns ``update_ticket``'s ``save()`` can
    have changed for BATCH_FIELDS."""
    bulk.update(Ticket, tickets, _COLUMNS)


def _write_audits(writers: Sequence[AuditWriter]) -> list[Audit]:
    """``AuditWriter.save`` for many changes: ids in one round trip, then one insert for the
    audits and one for their events. A change joining an open audit saves on its own."""
    saved: dict[int, Audit] = {}
    own = [w for w in writers if w.join is None]
    for writer in writers:
        if writer.join is not None:
            joined = writer.save()
            assert joined is not None
            saved[id(writer)] = joined
    ids = allocate_ids(sum(1 + len(w.events) for w in own))
    audits: list[Audit] = []
    events: list[AuditEvent] = []
    for writer in own:
        audit = Audit(
            id=ids.pop(0),
            ticket=writer.ticket,
            author=writer.author,
            via_channel=writer.via_channel,
            via_source=writer.via_source,
            created_at=writer.created_at,
        )
        audits.append(audit)
        for event in writer.events:
            event.pk = ids.pop(0)
            event.audit = audit
            events.append(event)
        saved[id(writer)] = audit
    bulk.insert(Audit, audits)
    bulk.insert(AuditEvent, events)
    return [saved[id(w)] for w in writers]


@configcache.in_unit
@transaction.atomic
def update_tickets(
    changes: Sequence[tuple[Ticket, TicketData]], *, actor: User | None
) -> list[Ticket]:
    """Apply each ``TicketData`` to its ticket as ``actor`` (None: the system), as
    ``update_ticket`` would one after the other, in one transaction; return the tickets.

    Only BATCH_FIELDS may be set (ValueError otherwise), one change per ticket. The caller has
    checked that ``actor`` may see the tickets. The rules of ``update_ticket`` apply to each:
    deleted and closed tickets are refused, end users and light agents cannot change these
    fields, an assignee must be an active agent in the ticket's group, assigning a new ticket
    opens it. Any refusal raises (ValidationError naming the field, or PermissionDenied) before
    anything is written. Locks the tickets' rows (in id order) until the transaction ends.
    Each changed ticket gets its own audit; then the ticket hooks run for the batch
    (``hooks.run_many``): triggers per ticket, SLAs, ownership and notifications per batch.
    """
    pks = [ticket.pk for ticket, _data in changes]
    if len(set(pks)) != len(pks):
        raise ValueError("update_tickets takes one change per ticket")
    plans: list[tuple[int, TicketData, set[str]]] = []
    for ticket, data in changes:
        fields_set = shared.fields_set(data)
        unsupported = fields_set - BATCH_FIELDS
        if unsupported:
            raise ValueError(f"update_tickets cannot set {', '.join(sorted(unsupported))}")
        plans.append((ticket.pk, data, fields_set))
    if not plans:
        return []
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update(of=("self",))
        .select_related("custom_status")
        .filter(pk__in=pks)
        .order_by("pk")
    }
    for pk, data, fields_set in plans:
        if pk not in locked:
            raise Ticket.DoesNotExist(f"ticket #{pk} does not exist")
        shared.check_changeable(locked[pk], actor, data, fields_set)

    # Everyone whose group memberships the rules may ask about, read once.
    people: dict[int, User] = {}
    for _pk, data, _fields in plans:
        if data.assignee is not None and data.assignee.pk is not None:
            people[data.assignee.pk] = data.assignee
    user_ids = set(people) | {t.assignee_id for t in locked.values() if t.assignee_id}
    members = shared.ReadMemberships(user_ids)
    # An assignee given to a ticket without a group brings their default group.
    needs_default = any(
        "assignee" in f and "group" not in f and locked[pk].group_id is None for pk, _d, f in plans
    )
    default_groups: dict[int, Group] = (
        Group.objects.in_bulk({u.default_group_id for u in people.values() if u.default_group_id})
        if needs_default
        else {}
    )

    now = clock.now()
    statuses = _Statuses()
    changed: list[tuple[Ticket, AuditWriter, list[str]]] = []
    for pk, data, fields_set in plans:
        ticket = locked[pk]
        if not fields_set - _VIA:
            continue  # nothing to change, as update_ticket
        applied = _apply(
            ticket,
            data,
            fields_set,
            actor=actor,
            members=members,
            default_groups=default_groups,
            statuses=statuses,
            now=now,
        )
        if applied is not None:
            changed.append((ticket, *applied))
    if not changed:
        return [locked[pk] for pk, _d, _f in plans]

    _write_tickets([ticket for ticket, _w, _p in changed])
    for ticket, _w, previous_tags in changed:
        sync_tag_rows(ticket, previous_tags)
    audits = _write_audits([writer for _t, writer, _p in changed])
    depth = hooks.current_depth()
    # Watched, so a batch hook can tell whether its copy of a ticket is still the stored one.
    with hooks.watch():
        hooks.run_many(
            [
                hooks.TicketChange(
                    ticket=ticket,
                    kind="update",
                    actor=actor,
                    audit=audit,
                    events=writer.events,
                    comment=None,
                    via_channel=writer.via_channel,
                    depth=depth,
                )
                for (ticket, writer, _p), audit in zip(changed, audits, strict=True)
            ]
        )
    return [locked[pk] for pk, _d, _f in plans]
