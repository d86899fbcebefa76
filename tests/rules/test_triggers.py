"""Triggers: conditions on the ticket and on the change, ordered actions, Zendesk's cycle."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.rules import actions as rules
from kefu.rules.models import Notification, TicketSkills
from kefu.tickets.actions import NewComment, TicketData, create_ticket, update_ticket
from kefu.tickets.models import AuditEvent, Ticket


def new_ticket(p, **data) -> Ticket:  # type: ignore[no-untyped-def]
    return create_ticket(
        actor=p.alice if "tags" in data else p.bob,
        data=TicketData(subject="退款 / Refund", requester=p.bob, **data),
        comment=NewComment(body="Please refund order 42."),
    )


def trigger(p, conditions, actions, **kwargs):  # type: ignore[no-untyped-def]
    if isinstance(conditions, list):
        conditions = {"all": conditions}
    return rules.create_trigger(
        actor=p.admin, title=kwargs.pop("title", "t"), conditions=conditions, actions=actions,
        **kwargs,
    )  # fmt: skip


def test_a_trigger_on_ticket_creation_sets_fields_through_a_rule_audit(personas):
    t = trigger(
        personas,
        [{"field": "update_type", "operator": "is", "value": "Create"},
         {"field": "subject", "operator": "includes", "value": "退款"}],
        [{"field": "priority", "value": "high"}, {"field": "current_tags", "value": "refund"}],
        title="Refunds are high",
    )  # fmt: skip
    ticket = new_ticket(personas)
    ticket.refresh_from_db()
    assert ticket.priority == "high" and ticket.tags == ["refund"]
    # as in Zendesk, the trigger's changes join the creation's audit, each event with its via
    audit = ticket.audits.get()
    event = audit.events.get(type="Change", field_name="priority")
    assert event.via == {
        "channel": "rule",
        "source": {"rel": "trigger", "from": {"id": t.pk, "title": "Refunds are high"}},
    }


def test_status_changed_to_fires_only_on_the_update_that_changes_it(personas):
    trigger(
        personas,
        [{"field": "status", "operator": "changed_to", "value": "solved"}],
        [{"field": "current_tags", "value": "was_solved"}],
    )
    ticket = new_ticket(personas)
    update_ticket(ticket, actor=personas.alice, data=TicketData(priority="low"))
    ticket.refresh_from_db()
    assert "was_solved" not in ticket.tags
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="solved"))
    ticket.refresh_from_db()
    assert "was_solved" in ticket.tags


@pytest.mark.parametrize(
    ("condition", "fires"),
    [
        ({"field": "status", "operator": "changed", "value": None}, True),
        ({"field": "status", "operator": "not_changed", "value": None}, False),
        ({"field": "status", "operator": "changed_from", "value": "new"}, True),
        ({"field": "status", "operator": "changed_from", "value": "pending"}, False),
        ({"field": "status", "operator": "not_changed_to", "value": "open"}, False),
        ({"field": "assignee_id", "operator": "changed", "value": None}, True),
        ({"field": "type", "operator": "not_changed", "value": None}, True),
        ({"field": "priority", "operator": "changed_to", "value": "urgent"}, False),
        ({"field": "comment_is_public", "operator": "is", "value": True}, True),
        ({"field": "comment_is_public", "operator": "is", "value": "false"}, False),
        ({"field": "comment_includes_word", "operator": "includes", "value": "发货 ship"}, True),
        ({"field": "comment_includes_word", "operator": "not_includes", "value": "发货"}, False),
        ({"field": "role", "operator": "is", "value": "agent"}, True),
        ({"field": "role", "operator": "is", "value": "end_user"}, False),
        ({"field": "update_type", "operator": "is", "value": "Change"}, True),
        ({"field": "via_id", "operator": "is", "value": "web"}, True),
        ({"field": "current_via_id", "operator": "is", "value": "email"}, False),
        ({"field": "organization_tags", "operator": "includes", "value": "vip"}, True),
        ({"field": "requester_tags", "operator": "includes", "value": "gold"}, False),
    ],
)
def test_each_change_condition(personas, condition, fires):
    from kefu.crm import actions as crm

    crm.update_organization(personas.acme, tags=["vip"])
    crm.add_organization_membership(user=personas.bob, organization=personas.acme)
    ticket = new_ticket(personas, organization=personas.acme)
    trigger(personas, [condition], [{"field": "current_tags", "value": "fired"}])
    # an agent takes a new ticket and answers in public
    update_ticket(
        ticket,
        actor=personas.alice,
        data=TicketData(assignee=personas.alice),
        comment=NewComment(body="We will ship it 今天发货", public=True),
    )
    ticket.refresh_from_db()
    assert ("fired" in ticket.tags) is fires


def test_triggers_restart_after_a_change_and_each_fires_once_so_ping_pong_stops(personas):
    # two triggers that would undo each other forever
    trigger(personas, [{"field": "priority", "operator": "is", "value": "low"}],
            [{"field": "priority", "value": "high"}], title="low->high")  # fmt: skip
    trigger(personas, [{"field": "priority", "operator": "is", "value": "high"}],
            [{"field": "priority", "value": "low"}], title="high->low")  # fmt: skip
    ticket = new_ticket(personas)
    update_ticket(ticket, actor=personas.alice, data=TicketData(priority="low"))
    ticket.refresh_from_db()
    # low -> (t1) high -> (t2) low; t1 already fired, so it stops there
    assert ticket.priority == "low"
    rule_changes = AuditEvent.objects.filter(
        audit__ticket=ticket, field_name="priority", via__channel="rule"
    ).count()
    assert rule_changes == 2


def test_a_later_trigger_sees_what_an_earlier_one_changed(personas):
    trigger(personas, [{"field": "current_tags", "operator": "includes", "value": "step1"}],
            [{"field": "current_tags", "value": "step2"}], position=1)  # fmt: skip
    trigger(personas, [{"field": "update_type", "operator": "is", "value": "Create"}],
            [{"field": "current_tags", "value": "step1"}], position=2)  # fmt: skip
    ticket = new_ticket(personas)
    ticket.refresh_from_db()
    assert ticket.tags == ["step1", "step2"]


def test_inactive_triggers_do_not_fire(personas):
    t = trigger(personas, [{"field": "update_type", "operator": "is", "value": "Create"}],
                [{"field": "priority", "value": "urgent"}])  # fmt: skip
    rules.update_trigger(t, actor=personas.admin, active=False)
    ticket = new_ticket(personas)
    ticket.refresh_from_db()
    assert ticket.priority is None


def test_actions_set_group_assignee_type_tags_followers_ccs_and_custom_fields(personas):
    from kefu.tickets.actions import create_ticket_field

    field = create_ticket_field(type="tagger", title="Product", options=[("Phone", "phone")])
    ticket = new_ticket(personas, tags=["old", "keep"])
    trigger(
        personas,
        [{"field": "update_type", "operator": "is", "value": "Change"}],
        [
            {"field": "group_id", "value": personas.support.pk},
            {"field": "assignee_id", "value": "current_user"},
            {"field": "type", "value": "incident"},
            {"field": "remove_tags", "value": "old"},
            {"field": "follower", "value": personas.admin.pk},
            {"field": "cc", "value": personas.carol.pk},
            {"field": f"custom_fields_{field.pk}", "value": "phone"},
            {"field": "required_skills", "value": "english billing"},
        ],
    )
    update_ticket(ticket, actor=personas.alice, data=TicketData(priority="low"))
    ticket.refresh_from_db()
    assert ticket.group == personas.support and ticket.assignee == personas.alice
    assert ticket.type == "incident"
    assert "old" not in ticket.tags and {"keep", "phone"} <= set(ticket.tags)
    assert list(ticket.followers.all()) == [personas.admin]
    assert list(ticket.email_ccs.all()) == [personas.carol]
    assert ticket.field_value(field.pk) == "phone"
    assert TicketSkills.objects.get(ticket=ticket).skills == ["english", "billing"]


def test_set_tags_replaces_every_tag(personas):
    trigger(personas, [{"field": "update_type", "operator": "is", "value": "Create"}],
            [{"field": "set_tags", "value": ["a", "b"]}])  # fmt: skip
    ticket = new_ticket(personas, tags=["x"])
    ticket.refresh_from_db()
    assert ticket.tags == ["a", "b"]


def test_notification_actions_record_an_event_and_notify_agents_in_app(personas):
    trigger(
        personas,
        [{"field": "update_type", "operator": "is", "value": "Create"}],
        [
            {"field": "notification_user",
             "value": ["requester_id", "Got it: {{ticket.title}}", "Ticket #{{ticket.id}}"]},
            {"field": "notification_group",
             "value": [personas.support.pk, "New: {{ticket.title}}", "{{ticket.description}}"]},
        ],
    )  # fmt: skip
    ticket = new_ticket(personas)
    events = AuditEvent.objects.filter(audit__ticket=ticket, type="Notification")
    assert sorted(e.value["subject"] for e in events) == [
        "Got it: 退款 / Refund", "New: 退款 / Refund"
    ]  # fmt: skip
    to_requester = next(e for e in events if e.value["subject"].startswith("Got"))
    assert to_requester.value["recipients"] == [personas.bob.pk]
    assert to_requester.value["body"] == f"Ticket #{ticket.pk}"
    # agents get an in-app notification; the end user only the email
    assert list(Notification.objects.values_list("recipient__name", flat=True)) == ["Alice 王"]


@pytest.mark.parametrize(
    ("conditions", "actions", "field", "message"),
    [
        ({"all": [{"field": "statuss", "operator": "is", "value": "open"}]},
         [{"field": "status", "value": "open"}], "conditions", "Unknown field: statuss"),
        ({"all": [{"field": "status", "operator": "is_about", "value": "open"}]},
         [{"field": "status", "value": "open"}], "conditions", "Unknown operator: is_about"),
        ({"all": [{"field": "subject", "operator": "changed_to", "value": "x"}]},
         [{"field": "status", "value": "open"}], "conditions",
         "Operator changed_to is not allowed for field subject"),
        ({"all": [{"field": "status", "operator": "changed_to", "value": "soled"}]},
         [{"field": "status", "value": "open"}], "conditions", "status"),
        ({"all": [{"field": "status", "operator": "is", "value": "open"}]},
         [{"field": "set_colour", "value": "red"}], "actions", "Unknown action: set_colour"),
        ({"all": [{"field": "status", "operator": "is", "value": "open"}]},
         [{"field": "priority", "value": 3}], "actions", "priority"),
        ({"all": [{"field": "status", "operator": "is", "value": "open"}]},
         [{"field": "notification_user", "value": ["requester_id", "only subject"]}],
         "actions", "notification_user"),
        ({"all": []}, [{"field": "status", "value": "open"}], "conditions", "at least one"),
    ],
)  # fmt: skip
def test_a_bad_trigger_is_refused_naming_the_field_and_nothing_is_written(
    personas, conditions, actions, field, message
):
    from kefu.rules.models import Trigger

    with pytest.raises(ValidationError) as error:
        trigger(personas, conditions, actions)
    assert field in error.value.message_dict
    assert message in " ".join(error.value.message_dict[field])
    assert not Trigger.objects.exists()


def test_only_admins_manage_triggers(personas):
    with pytest.raises(PermissionDenied):
        rules.create_trigger(
            actor=personas.alice, title="t",
            conditions={"all": [{"field": "status", "operator": "is", "value": "open"}]},
            actions=[{"field": "priority", "value": "low"}],
        )  # fmt: skip


def test_triggers_run_by_category_then_position(personas):
    late = rules.create_trigger_category(actor=personas.admin, name="Late", position=2)
    early = rules.create_trigger_category(actor=personas.admin, name="Early", position=1)
    create = [{"field": "update_type", "operator": "is", "value": "Create"}]
    trigger(personas, create, [{"field": "priority", "value": "low"}], category=late)
    trigger(personas, create, [{"field": "priority", "value": "high"}], category=early)
    ticket = new_ticket(personas)
    ticket.refresh_from_db()
    assert ticket.priority == "low"  # the later category ran last


def test_reordering_triggers_changes_which_runs_last(personas):
    create = [{"field": "update_type", "operator": "is", "value": "Create"}]
    first = trigger(personas, create, [{"field": "priority", "value": "low"}])
    second = trigger(personas, create, [{"field": "priority", "value": "high"}])
    rules.reorder_triggers(actor=personas.admin, trigger_ids=[second.pk, first.pk])
    ticket = new_ticket(personas)
    ticket.refresh_from_db()
    assert ticket.priority == "low"


def test_a_trigger_that_cannot_apply_its_change_does_not_fail_the_update(personas):
    outsider = accounts.create_user(name="Olga", email="olga@kefu.test", role=Role.AGENT)
    trigger(personas, [{"field": "update_type", "operator": "is", "value": "Create"}],
            [{"field": "assignee_id", "value": outsider.pk}])  # fmt: skip
    ticket = create_ticket(
        actor=personas.alice,
        data=TicketData(subject="s", requester=personas.bob, group=personas.support),
        comment=NewComment(body="b"),
    )
    ticket.refresh_from_db()
    assert ticket.assignee is None  # Olga is not in Support: skipped, the ticket was created


def test_compiled_triggers_know_which_updates_they_can_match(personas):
    from kefu.rules.engine import active_triggers

    trigger(personas, [{"field": "update_type", "operator": "is", "value": "Create"},
                       {"field": "status", "operator": "changed_to", "value": "solved"},
                       {"field": "group_id", "operator": "not_changed", "value": None}],
            [{"field": "priority", "value": "high"}], title="gated")  # fmt: skip
    trigger(personas, [{"field": "update_type", "operator": "is_not", "value": "Create"}],
            [{"field": "priority", "value": "high"}], title="open")  # fmt: skip
    compiled = {t.title: t for t in active_triggers()}
    assert compiled["gated"].update_type == "Create"
    assert compiled["gated"].needs_changed == {"status"}
    assert compiled["open"].update_type is None
    assert compiled["open"].needs_changed == frozenset()


def test_a_change_made_by_an_earlier_trigger_lets_a_gated_trigger_fire(personas):
    trigger(personas, [{"field": "priority", "operator": "changed_to", "value": "urgent"}],
            [{"field": "current_tags", "value": "escalated"}], position=1)  # fmt: skip
    trigger(personas, [{"field": "subject", "operator": "includes", "value": "fire"}],
            [{"field": "priority", "value": "urgent"}], position=2)  # fmt: skip
    ticket = new_ticket(personas)
    update_ticket(ticket, actor=personas.alice, data=TicketData(subject="fire 着火"))
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    assert "escalated" in ticket.tags
