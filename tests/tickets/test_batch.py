"""update_tickets: the batch form of update_ticket leaves what update_ticket leaves, ticket by
ticket (audits, events, hook outcomes), in a number of queries that does not grow with the
batch; bad input changes nothing."""

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.channels.email.models import OutboundMessage
from kefu.core import clock
from kefu.rules import actions as rules
from kefu.rules.models import Notification, TicketOwner, Trigger
from kefu.sla import actions as sla
from kefu.sla.models import (
    SlaMetricState,
    SlaPolicy,
    SlaTicketState,
    TicketMetricEvent,
    TicketMetricSet,
)
from kefu.tickets.actions import (
    NewComment,
    TicketData,
    create_ticket,
    update_ticket,
    update_tickets,
)
from kefu.tickets.choices import Channel
from kefu.tickets.models import Audit, Ticket

CREATED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CHANGED = CREATED + dt.timedelta(minutes=17)
ROUTING = {"via_channel": Channel.RULE, "via_source": {"rel": "routing", "from": {"mode": "x"}}}


def targets(priority: str, **minutes: int) -> list[dict]:
    return [
        {"priority": priority, "metric": metric, "target": target, "business_hours": False}
        for metric, target in minutes.items()
    ]


@pytest.fixture
def world(personas):  # type: ignore[no-untyped-def]
    """Dan in Support; Billing without Alice; an SLA policy for every ticket and one that
    starts to match when Dan is assigned; triggers that fire on an assignment (one changes
    the ticket, one notifies the assignee)."""
    p = personas
    dan = accounts.create_user(name="Dan", email="dan@kefu.test", role=Role.AGENT,
                               groups=[p.support])  # fmt: skip
    billing = accounts.create_group(name="Billing 账务")
    sla.create_policy(
        title="Dan's 专属",
        filter={"all": [{"field": "assignee_id", "operator": "is", "value": dan.pk}]},
        policy_metrics=targets("normal", first_reply_time=30, next_reply_time=60)
        + targets("urgent", first_reply_time=10),
    )
    sla.create_policy(
        title="Standard 标准",
        filter={"all": [], "any": []},
        policy_metrics=targets("normal", first_reply_time=60, requester_wait_time=480)
        + targets("urgent", first_reply_time=15),
    )
    assigned = {"field": "assignee_id", "operator": "changed", "value": None}
    rules.create_trigger(actor=p.admin, title="Tag assigned", conditions={"all": [assigned]},
                         actions=[{"field": "current_tags", "value": "assigned"}])  # fmt: skip
    rules.create_trigger(
        actor=p.admin, title="Tell the assignee", conditions={"all": [assigned]},
        actions=[{"field": "notification_user",
                  "value": ["assignee_id", "Yours: {{ticket.title}}", "#{{ticket.id}}"]}],
    )  # fmt: skip
    return p, dan, billing


def prepare(p, dan, billing) -> list[tuple[Ticket, TicketData]]:  # type: ignore[no-untyped-def]
    """Seven tickets in different situations and the change each gets."""
    with clock.frozen_at(CREATED):
        tickets = [
            create_ticket(
                actor=p.admin,
                data=TicketData(
                    subject=f"Ticket {n} 工单",
                    requester=p.bob,
                    group=None if n == 4 else p.support,
                ),
                comment=NewComment(body="Help 帮帮我", author=p.bob),
            )
            for n in range(7)
        ]
        # 2 has a follower; 3 was Alice's (she owns it); 6 is Alice's.
        update_ticket(tickets[2], actor=p.admin, data=TicketData(followers=[p.alice]))
        update_ticket(tickets[3], actor=p.admin, data=TicketData(assignee=p.alice))
        update_ticket(tickets[3], actor=p.admin, data=TicketData(assignee=None))
        update_ticket(tickets[6], actor=p.admin, data=TicketData(assignee=p.alice))
    changes = [
        TicketData(assignee=p.alice, **ROUTING),  # plain assignment, new -> open
        TicketData(assignee=dan, **ROUTING),  # the policy changes to Dan's
        TicketData(assignee=dan, **ROUTING),  # a follower is told
        TicketData(assignee=dan, **ROUTING),  # ownership goes from Alice to Dan
        TicketData(assignee=p.alice, **ROUTING),  # no group: Alice's default group
        TicketData(priority="urgent", type="question", **ROUTING),  # no assignment
        TicketData(group=billing, **ROUTING),  # Alice is not in Billing: unassigned
    ]
    return list(zip(tickets, changes, strict=True))


def _ids(text: str, ticket: Ticket) -> str:
    return re.sub(rf"#{ticket.pk}\b", "#ID", text)


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """Everything a change leaves on a ticket, without the ids that differ between copies."""
    ticket.refresh_from_db()
    fields = ["subject", "status", "custom_status_id", "priority", "type", "assignee_id",
              "group_id", "tags", "is_public", "due_at", "updated_at", "status_updated_at",
              "assigned_at", "solved_at", "requester_updated_at",
              "assignee_updated_at"]  # fmt: skip
    audits = [
        (
            audit.author_id,
            audit.via_channel,
            audit.via_source,
            audit.metadata,
            audit.created_at,
            [
                (e.type, e.field_name, _plain(e.value, ticket), e.previous_value, e.via)
                for e in audit.events.order_by("id")
            ],
        )
        for audit in Audit.objects.filter(ticket=ticket).order_by("created_at", "id")
    ]
    state = SlaTicketState.objects.filter(ticket=ticket).values(
        "policy_id", "next_breach_at", "breached"
    )
    metrics = SlaMetricState.objects.filter(ticket=ticket).order_by("metric").values(
        "metric", "instance_id", "policy_id", "stage", "target_minutes", "business_hours",
        "started_at", "resumed_at", "elapsed_minutes", "breach_at", "warn_at", "fulfilled_at",
    )  # fmt: skip
    metric_events = TicketMetricEvent.objects.filter(ticket=ticket).order_by(
        "time", "metric", "instance_id", "type"
    )
    metric_set = TicketMetricSet.objects.filter(ticket=ticket).values()
    notifications = Notification.objects.filter(ticket=ticket).order_by(
        "kind", "recipient_id", "created_at", "subject"
    )
    outbound = OutboundMessage.objects.filter(ticket=ticket).order_by("subject", "kind")
    return {
        "ticket": {name: getattr(ticket, name) for name in fields},
        "followers": sorted(ticket.followers.values_list("pk", flat=True)),
        "audits": audits,
        "owner": list(TicketOwner.objects.filter(ticket=ticket).values("owner_id", "since")),
        "sla_state": list(state),
        "sla_metrics": list(metrics),
        "metric_events": [
            (e.metric, e.instance_id, e.type, e.time, e.sla, e.status) for e in metric_events
        ],
        "metric_set": [
            {k: v for k, v in row.items() if k not in ("id", "ticket_id")} for row in metric_set
        ],
        "notifications": [
            (
                n.recipient_id,
                n.kind,
                _ids(n.subject, ticket),
                _ids(n.body, ticket),
                n.actor_id,
                n.created_at,
                n.read_at,
            )
            for n in notifications
        ],
        "emails": [(_ids(m.subject, ticket), m.kind) for m in outbound],
    }


def _plain(value: Any, ticket: Ticket) -> Any:
    # A rule's notification event names the ticket in its body.
    if isinstance(value, dict) and "body" in value:
        return {**value, "body": _ids(value["body"], ticket)}
    return value


@pytest.mark.parametrize("as_admin", [False, True], ids=["system", "admin"])
def test_a_batch_leaves_what_updating_each_ticket_leaves(world, as_admin):
    p, dan, billing = world
    actor = p.admin if as_admin else None
    one_by_one = prepare(p, dan, billing)
    batched = prepare(p, dan, billing)
    # when
    with clock.frozen_at(CHANGED):
        for ticket, data in one_by_one:
            update_ticket(ticket, actor=actor, data=data)
        update_tickets(batched, actor=actor)
    # then
    for (single, _d), (batch, _e) in zip(one_by_one, batched, strict=True):
        assert snapshot(batch) == snapshot(single)
    # and the cases above are the ones meant (the comparison is not of two empty states)
    after = [snapshot(t) for t, _d in batched]
    assert [s["ticket"]["assignee_id"] for s in after] == [
        p.alice.pk, dan.pk, dan.pk, dan.pk, p.alice.pk, None, None
    ]  # fmt: skip
    assert [s["ticket"]["status"] for s in after][:5] == ["open"] * 5
    assert after[4]["ticket"]["group_id"] == p.alice.default_group_id is not None
    assert "assigned" in after[0]["ticket"]["tags"]  # a trigger changed the ticket
    assert after[3]["owner"][0]["owner_id"] == dan.pk  # ownership handed over
    assert {s["sla_state"][0]["policy_id"] for s in after[1:4]} != {
        after[0]["sla_state"][0]["policy_id"]
    }  # the policy changed with Dan, as an event of the routing audit
    policy_events = [e for a in after[1]["audits"] if a[4] == CHANGED for e in a[5]
                     if e[0] == "SlaPolicy"]  # fmt: skip
    assert len(policy_events) == 1
    # one for the follower being added, one for the assignment
    assert [n[1] for n in after[2]["notifications"]].count("follower_update") == 2
    assert any(n[1] == "assigned" for n in after[0]["notifications"])
    assert after[0]["emails"]  # the assignee's rule email


def test_a_batch_makes_the_same_queries_whatever_its_size(world):
    p, dan, _billing = world
    # Triggers that fire do their work per ticket (their emails), and so does the SLA
    # evaluation of a ticket whose policy changes (Dan's); without them, none is.
    Trigger.objects.all().delete()
    SlaPolicy.objects.filter(title="Dan's 专属").delete()

    def queue(n: int) -> list[Ticket]:
        return [
            create_ticket(actor=p.admin, data=TicketData(subject=f"q{i}", requester=p.bob,
                          group=p.support), comment=NewComment(body="b", author=p.bob))
            for i in range(n)
        ]  # fmt: skip

    def assign(tickets: list[Ticket]) -> int:
        people = (p.alice, dan)
        changes = [
            (t, TicketData(assignee=people[i % 2], **ROUTING)) for i, t in enumerate(tickets)
        ]
        with CaptureQueriesContext(connection) as queries:
            update_tickets(changes, actor=None)
        return len(queries)

    small, large = queue(5), queue(50)
    # when
    few, many = assign(small), assign(large)
    # then
    assert many == few
    assert many <= 40  # update_ticket makes ~30 per ticket
    assert Ticket.objects.filter(assignee__isnull=False).count() == 55
    assert Notification.objects.filter(kind="assigned").count() == 55
    assert Audit.objects.filter(via_channel=Channel.RULE).count() == 55


def _nothing_written(tickets: list[Ticket]) -> tuple[list, int, int]:
    return (
        [snapshot(t)["ticket"] for t in tickets],
        Audit.objects.count(),
        Notification.objects.count(),
    )


def test_a_bad_change_refuses_the_whole_batch(world):
    p, dan, billing = world
    tickets = [t for t, _d in prepare(p, dan, billing)]
    outsider = accounts.create_user(name="Olga", email="olga@kefu.test", role=Role.AGENT)
    before = _nothing_written(tickets)
    # when: the last change assigns someone outside the ticket's group
    with pytest.raises(ValidationError) as refused:
        update_tickets(
            [(tickets[0], TicketData(assignee=dan)), (tickets[1], TicketData(assignee=outsider))],
            actor=p.admin,
        )
    # then
    assert list(refused.value.message_dict) == ["assignee_id"]
    assert _nothing_written(tickets) == before


@pytest.mark.parametrize(
    "bad",
    [
        {"assignee": "bob"},  # not an agent
        {"priority": "whenever"},  # not a priority
        {"type": "essay"},
        {"via_channel": "pigeon", "priority": "low"},
    ],
)
def test_invalid_values_are_refused_naming_the_field(world, bad):
    p, dan, billing = world
    tickets = [t for t, _d in prepare(p, dan, billing)]
    data = {k: (p.bob if v == "bob" else v) for k, v in bad.items()}
    before = _nothing_written(tickets)
    with pytest.raises(ValidationError) as refused:
        update_tickets(
            [(tickets[0], TicketData(priority="high")), (tickets[1], TicketData(**data))],
            actor=p.admin,
        )
    name = next(iter(bad))  # the first key is the bad one
    assert list(refused.value.message_dict) == [f"{name}_id" if name == "assignee" else name]
    assert _nothing_written(tickets) == before


def test_closed_and_deleted_tickets_are_refused(world):
    p, dan, billing = world
    tickets = [t for t, _d in prepare(p, dan, billing)]
    Ticket.objects.filter(pk=tickets[1].pk).update(status="closed")
    with pytest.raises(ValidationError) as closed:
        update_tickets(
            [(tickets[0], TicketData(assignee=dan)), (tickets[1], TicketData(assignee=dan))],
            actor=p.admin,
        )
    assert list(closed.value.message_dict) == ["status"]
    Ticket.objects.filter(pk=tickets[1].pk).update(status="open", deleted_at=CREATED)
    with pytest.raises(ValidationError) as deleted:
        update_tickets([(tickets[1], TicketData(assignee=dan))], actor=p.admin)
    assert list(deleted.value.message_dict) == ["ticket"]
    assert Ticket.objects.get(pk=tickets[0].pk).assignee_id is None


def test_customers_and_light_agents_cannot_batch_field_changes(world):
    p, dan, billing = world
    tickets = [t for t, _d in prepare(p, dan, billing)]
    light = accounts.create_user(name="Li", email="li@kefu.test", role=Role.LIGHT_AGENT,
                                 groups=[p.support])  # fmt: skip
    for actor in (p.bob, light):
        with pytest.raises(PermissionDenied):
            update_tickets([(tickets[0], TicketData(priority="high"))], actor=actor)
    assert Ticket.objects.get(pk=tickets[0].pk).priority is None


def test_fields_outside_the_batch_set_and_repeated_tickets_are_programming_errors(world):
    p, dan, billing = world
    tickets = [t for t, _d in prepare(p, dan, billing)]
    with pytest.raises(ValueError, match="status"):
        update_tickets([(tickets[0], TicketData(status="pending"))], actor=p.admin)
    with pytest.raises(ValueError, match="one change per ticket"):
        update_tickets(
            [(tickets[0], TicketData(assignee=dan)), (tickets[0], TicketData(assignee=p.alice))],
            actor=p.admin,
        )


def test_a_change_that_changes_nothing_writes_nothing(world):
    p, dan, billing = world
    tickets = [t for t, _d in prepare(p, dan, billing)]
    before = _nothing_written(tickets)
    update_tickets(
        [(tickets[6], TicketData(assignee=p.alice)), (tickets[0], TicketData(**ROUTING))],
        actor=p.admin,
    )
    assert _nothing_written(tickets) == before


def test_the_sla_hook_sees_what_a_trigger_changed_in_the_batch(world):  # type: ignore[no-untyped-def]
    """The SLA batch hook takes the change's copy of a ticket only while no hook has written
    the ticket since: here a trigger turns "high" into "urgent", so the urgent policy applies
    (from the batch's copy, still "high", Dan's policy would)."""
    p, dan, _billing = world
    sla.create_policy(
        title="Urgent 紧急",
        filter={"all": [{"field": "priority", "operator": "is", "value": "urgent"}]},
        policy_metrics=targets("urgent", first_reply_time=5),
        position=0,
    )
    rules.create_trigger(
        actor=p.admin, title="High means urgent",
        conditions={"all": [{"field": "priority", "operator": "is", "value": "high"}]},
        actions=[{"field": "priority", "value": "urgent"}],
    )  # fmt: skip
    with clock.frozen_at(CREATED):
        ticket = create_ticket(
            actor=p.admin,
            data=TicketData(subject="Slow 慢", requester=p.bob, group=p.support, assignee=dan),
            comment=NewComment(body="Help 帮帮我", author=p.bob),
        )
    with clock.frozen_at(CHANGED):
        update_tickets([(ticket, TicketData(priority="high"))], actor=p.admin)
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    first_reply = SlaMetricState.objects.get(ticket=ticket, metric="first_reply_time")
    assert first_reply.target_minutes == 5  # the urgent policy, first in order
