"""Routing: give a group's new, unassigned tickets to an available agent.

Modes per group (``GroupRouting``): manual (nothing happens), round robin (the available
agent routed to longest ago), least loaded (fewest new+open tickets), skills (agents who have
every skill the ticket needs, then least loaded). Only agents who are online and below their
capacity get tickets. A ticket nobody can take waits in the group's queue — the queue is
simply "unassigned, new or open, in a routed group", oldest most urgent first — and is routed
when an agent comes online or frees capacity.

Concurrency: routing locks the ticket, then the group's online agent-status rows (in id
order), counts loads, and assigns inside that lock; two tickets routed at once in one group
queue on those locks, so an agent never goes over capacity (docs/rules.md, "Routing").
"""

import datetime as dt
import heapq
import logging
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.utils import timezone

from kefu.accounts.models import User
from kefu.core import bulk, clock
from kefu.tickets.actions import TicketData, update_ticket, update_tickets
from kefu.tickets.choices import Channel, Status
from kefu.tickets.hooks import TicketChange
from kefu.tickets.models import Ticket

from .choices import Availability, RoutingMode
from .models import AgentStatus, GroupRouting, TicketSkills

log = logging.getLogger(__name__)

# Statuses that take an agent's capacity, and that can wait in a queue.
WORKING = (Status.NEW, Status.OPEN)


def routing_mode(group_id: int | None) -> str:
    if group_id is None:
        return RoutingMode.MANUAL
    routing = GroupRouting.objects.filter(group_id=group_id).only("mode").first()
    return routing.mode if routing else RoutingMode.MANUAL


def loads(agent_ids: list[int]) -> dict[int, int]:
    """New and open tickets assigned to each agent."""
    rows = (
        Ticket.objects.filter(
            assignee_id__in=agent_ids, status__in=WORKING, deleted_at__isnull=True
        )
        .values("assignee_id")
        .annotate(n=Count("id"))
    )
    counts = dict.fromkeys(agent_ids, 0)
    counts.update({row["assignee_id"]: row["n"] for row in rows})
    return counts


def _pick(
    statuses: list[AgentStatus], load: dict[int, int], mode: str, skills: list[str]
) -> AgentStatus | None:
    free = [s for s in statuses if load[s.agent_id] < s.capacity]
    if mode == RoutingMode.SKILLS and skills:
        free = [s for s in free if set(skills) <= set(s.skills)]
    if not free:
        return None
    oldest = clock.now().replace(year=1)
    if mode == RoutingMode.ROUND_ROBIN:
        return min(free, key=lambda s: (s.last_routed_at or oldest, s.agent_id))
    return min(free, key=lambda s: (load[s.agent_id], s.last_routed_at or oldest, s.agent_id))


class _Turns:
    """The choices ``_pick`` makes for a run of tickets, in O(log agents) each: the free
    agents in a heap by ``_pick``'s key, the chosen one put back with its new load and turn.
    A chunk of 200 tickets across 50 agents scanned every agent per ticket (~5 % of a
    drain's CPU). Skills filter per ticket, so in that mode each choice is ``_pick``'s scan."""

    def __init__(self, statuses: list[AgentStatus], load: dict[int, int], mode: str) -> None:
        self.statuses, self.load, self.mode = statuses, load, mode
        self.oldest = clock.now().replace(year=1)
        self.heap = [(self._key(s), s) for s in statuses if load[s.agent_id] < s.capacity]
        heapq.heapify(self.heap)  # keys end with the agent's id: never a tie

    def _key(self, status: AgentStatus) -> tuple:
        turn = status.last_routed_at or self.oldest
        if self.mode == RoutingMode.ROUND_ROBIN:
            return (turn, status.agent_id)
        return (self.load[status.agent_id], turn, status.agent_id)

    def pick(self, skills: list[str]) -> AgentStatus | None:
        if self.mode == RoutingMode.SKILLS and skills:
            return _pick(self.statuses, self.load, self.mode, skills)
        while self.heap:
            key, status = self.heap[0]
            if key == self._key(status) and self.load[status.agent_id] < status.capacity:
                return status
            heapq.heappop(self.heap)  # stale (chosen by a skills pick meanwhile): re-file
            if self.load[status.agent_id] < status.capacity:
                heapq.heappush(self.heap, (self._key(status), status))
        return None

    def took(self, status: AgentStatus, routed_at: dt.datetime) -> None:
        """``status``'s agent got a ticket at ``routed_at``."""
        self.load[status.agent_id] += 1
        status.last_routed_at = routed_at
        if self.heap and self.heap[0][1] is status:
            heapq.heappop(self.heap)
            if self.load[status.agent_id] < status.capacity:
                heapq.heappush(self.heap, (self._key(status), status))
        # Otherwise its heap entry is stale now and pick() re-files it when it surfaces.


def _online_statuses(group_id: int) -> list[AgentStatus]:
    """The group's online agents' status rows, locked (in id order) until the transaction ends."""
    return list(
        AgentStatus.objects.select_for_update()
        .filter(
            availability=Availability.ONLINE,
            agent__agent_groups__id=group_id,
            agent__is_active=True,
            agent__suspended=False,
        )
        .exclude(agent__role="light_agent")
        .select_related("agent")
        .order_by("pk")
    )


def _assignment(chosen: AgentStatus, mode: str) -> TicketData:
    return TicketData(
        assignee=chosen.agent,
        via_channel=Channel.RULE,
        via_source={"rel": "routing", "from": {"mode": mode}},
    )


def _assign(ticket: Ticket, chosen: AgentStatus, mode: str) -> None:
    """Give ``ticket`` to ``chosen``'s agent: an audited update through the tickets actions
    (so triggers, SLAs and notifications see the assignment like any other)."""
    update_ticket(ticket, actor=None, data=_assignment(chosen, mode))


@transaction.atomic
def route_ticket(ticket: Ticket) -> User | None:
    """Assign ``ticket`` to an available agent of its group, if it is waiting and one can
    take it; return the agent. Locks the ticket, then the group's online agents."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if (
        ticket.assignee_id is not None
        or ticket.status not in WORKING
        or ticket.deleted_at is not None
    ):
        return None
    group_id = ticket.group_id
    mode = routing_mode(group_id)
    if group_id is None or mode == RoutingMode.MANUAL:
        return None
    statuses = _online_statuses(group_id)
    if not statuses:
        return None
    skills: list[str] = []
    if mode == RoutingMode.SKILLS:
        row = TicketSkills.objects.filter(ticket=ticket).first()
        skills = row.skills if row else []
    load = loads([s.agent_id for s in statuses])
    chosen = _pick(statuses, load, mode, skills)
    if chosen is None:
        return None
    chosen.last_routed_at = clock.now()
    chosen.save(update_fields=["last_routed_at", "updated_at"])
    _assign(ticket, chosen, mode)
    return chosen.agent


def waiting_tickets(group_id: int) -> QuerySet[Ticket]:
    """The group's queue: unassigned new/open tickets, most urgent then oldest first."""
    urgency = Case(
        When(priority="urgent", then=Value(0)),
        When(priority="high", then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        Ticket.objects.filter(
            group_id=group_id,
            assignee__isnull=True,
            status__in=WORKING,
            deleted_at__isnull=True,
        )
        .annotate(urgency=urgency)
        .order_by("urgency", "created_at", "id")
    )


# Tickets routed per transaction when a queue drains: the locks on the group's agents are
# held for one chunk, so single-ticket routing in the group waits at most that long.
DRAIN_CHUNK = 200


def drain_queue(group_id: int, *, limit: int | None = None) -> int:
    """Route the group's waiting tickets while agents can take them; return how many.

    Batched: per chunk of the queue, the tickets and then the group's online agents are
    locked (the order ``route_ticket`` uses), the agents' loads and the tickets' skills are
    read once, the choices are made in memory, and the chunk is assigned by one
    ``update_tickets`` (an audit per ticket, as ``update_ticket`` writes it, in a few
    queries for the chunk; bench/RESULTS.md)."""
    mode = routing_mode(group_id)
    if mode == RoutingMode.MANUAL:
        return 0
    remaining = limit or 10_000
    routed = 0
    unroutable: set[int] = set()  # skills: tickets nobody online has the skills for
    while remaining > 0:
        chunk, more = _drain_chunk(group_id, mode, min(remaining, DRAIN_CHUNK), unroutable)
        routed += chunk
        remaining -= chunk
        if not more:
            break
    return routed


@transaction.atomic
def _drain_chunk(group_id: int, mode: str, size: int, unroutable: set[int]) -> tuple[int, bool]:
    """Route up to ``size`` waiting tickets; return (routed, whether to go on)."""
    queue = waiting_tickets(group_id).exclude(pk__in=unroutable)
    # Ids only: update_tickets reads the locked rows it changes itself.
    waiting = list(queue.select_for_update(of=("self",)).only("pk")[:size])
    if not waiting:
        return 0, False
    statuses = _online_statuses(group_id)
    if not statuses:
        return 0, False
    load = loads([s.agent_id for s in statuses])
    skills: dict[int, list[str]] = {}
    if mode == RoutingMode.SKILLS:
        rows = TicketSkills.objects.filter(ticket_id__in=[t.pk for t in waiting])
        skills = {row.ticket_id: row.skills for row in rows}
    routed_at = clock.now()
    chosen_ones: dict[int, AgentStatus] = {}
    assignments: list[tuple[Ticket, TicketData]] = []
    routed = 0
    full = False
    turns = _Turns(statuses, load, mode)
    for ticket in waiting:
        chosen = turns.pick(skills.get(ticket.pk, []))
        if chosen is None:
            if mode != RoutingMode.SKILLS:
                full = True  # nobody has room
                break
            unroutable.add(ticket.pk)  # with skills, a later ticket may still fit someone
            continue
        # Strictly increasing, so round robin keeps its turns within one chunk.
        turns.took(chosen, routed_at + dt.timedelta(microseconds=routed))
        chosen_ones[chosen.pk] = chosen
        assignments.append((ticket, _assignment(chosen, mode)))
        routed += 1
    update_tickets(assignments, actor=None)
    _save_routed_at(list(chosen_ones.values()))
    # Go on while the queue may hold more than this chunk and agents still have room.
    return routed, not full and len(waiting) == size


def _save_routed_at(statuses: list[AgentStatus]) -> None:
    """``save(update_fields=["last_routed_at", "updated_at"])`` for each, in one statement
    (Django's ``bulk_update`` builds a CASE per row and cost more than the saves)."""
    saved_at = timezone.now()  # what save() puts in the auto_now column
    for status in statuses:
        status.updated_at = saved_at
    bulk.update(AgentStatus, statuses, ["last_routed_at", "updated_at"])


def route_on_change(change: TicketChange) -> None:
    """The ``rules.routing`` hook: route a new or re-grouped unassigned ticket; when a ticket
    leaves an agent's plate, let the queue of that agent's groups move (after commit)."""
    if change.depth != 0 or change.kind not in ("create", "update"):
        return
    ticket = change.notes.get("ticket", change.ticket)
    if ticket.assignee_id is None and ticket.status in WORKING and ticket.group_id is not None:
        # Most groups are routed by hand: ask first, before taking the ticket's row lock (a
        # savepoint, a locked read and its release on every new ticket otherwise).
        if routing_mode(ticket.group_id) != RoutingMode.MANUAL:
            route_ticket(ticket)
        return
    freed: int | None = None
    if change.changed("assignee_id") and change.previous("assignee_id") is not None:
        freed = change.previous("assignee_id")
    elif (
        change.changed("status")
        and change.previous("status") in WORKING
        and ticket.status not in WORKING
    ):
        freed = ticket.assignee_id
    if freed is not None:
        from .tasks import drain_agent_groups_task

        agent_id = freed
        transaction.on_commit(lambda: safe_enqueue(drain_agent_groups_task, agent_id))


def safe_enqueue(task: Any, *args: Any) -> None:
    try:
        task.enqueue(*args)
    except Exception:  # a queue hiccup must not surface after the ticket was saved
        log.exception("could not enqueue %s", task)


def drain_agent_groups(agent_id: int) -> int:
    """Route waiting tickets in every routed group of this agent."""
    group_ids = GroupRouting.objects.filter(
        group__members__id=agent_id, mode__in=[m for m in RoutingMode.values if m != "manual"]
    ).values_list("group_id", flat=True)
    return sum(drain_queue(group_id) for group_id in group_ids)


__all__ = ["drain_agent_groups", "drain_queue", "loads", "route_ticket", "waiting_tickets"]
