"""The defaults a new instance ships with (rules/migrations/0002_default_rules): notification
triggers like a new Zendesk account, tier groups with escalation automations, the complaint
severity field. tests/conftest.py removes them for other tests; here they are installed."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.db import connection

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.accounts.models import Group
from kefu.core import clock
from kefu.rules import actions as rules
from kefu.rules.automations import run_automations
from kefu.rules.models import Automation, Escalation, Trigger
from kefu.tickets.actions import NewComment, TicketData, add_comment, create_ticket, update_ticket
from kefu.tickets.models import AuditEvent, TicketField

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
defaults = importlib.import_module("kefu.rules.migrations.0002_default_rules")
with_email = importlib.import_module("kefu.rules.migrations.0003_defaults_with_email_channel")
end_users_only = importlib.import_module("kefu.rules.migrations.0004_receipt_for_end_users_only")


class _Editor:
    connection = connection


@pytest.fixture
def installed(personas):  # type: ignore[no-untyped-def]
    defaults.create_defaults(apps, _Editor())
    with_email.adjust(apps, _Editor())
    end_users_only.adjust(apps, _Editor())
    tiers = [Group.objects.get(name=name) for _key, name, _d in defaults.TIERS]
    return personas, tiers


def test_defaults_are_created_once_and_all_validate(installed):
    from kefu.rules.automations import check_automation
    from kefu.rules.conditions import bind_trigger_conditions
    from kefu.rules.rule_actions import bind_actions

    for trigger in Trigger.objects.all():
        bind_trigger_conditions(trigger.conditions)
        bind_actions(trigger.actions)
    for automation in Automation.objects.all():
        check_automation(automation.conditions, automation.actions)
    assert Trigger.objects.count() == 6 and Automation.objects.count() == 2
    field = TicketField.objects.get(title=defaults.SEVERITY_TITLE)
    assert list(field.options.values_list("value", flat=True)) == [
        "complaint_1_critical", "complaint_2_major", "complaint_3_moderate", "complaint_4_minor"
    ]  # fmt: skip
    # installing again keeps the existing groups and field
    defaults.create_defaults(apps, _Editor())
    assert Group.objects.filter(name__startswith="Tier").count() == 3
    assert TicketField.objects.filter(title=defaults.SEVERITY_TITLE).count() == 1


def notifications(ticket) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        AuditEvent.objects.filter(audit__ticket=ticket, type="Notification")
        .order_by("id").values_list("value__subject", flat=True)
    )  # fmt: skip


def test_the_requester_hears_of_receipt_and_of_public_replies(installed):
    p, _tiers = installed
    ticket = create_ticket(
        actor=p.bob, data=TicketData(subject="Refund"), comment=NewComment(body="b")
    )
    assert notifications(ticket) == ["[Request received 已收到您的请求] Refund"]
    # An agent opening a ticket for a customer: the channel mails the agent's comment itself,
    # so there is no second "received" mail.
    proactive = create_ticket(actor=p.alice, data=TicketData(subject="We noticed", requester=p.bob),
                              comment=NewComment(body="Your order is late"))  # fmt: skip
    assert notifications(proactive) == []
    # the email channel mails public replies itself; an instance that turned that off
    # switches the default trigger on
    reply_trigger = Trigger.objects.get(title=with_email.REPLY)
    assert not reply_trigger.active
    rules.update_trigger(reply_trigger, actor=p.admin, active=True)
    update_ticket(ticket, actor=p.admin, data=TicketData(group=p.support))
    add_comment(ticket, actor=p.alice, body="Refund sent today")
    subjects = notifications(ticket)
    assert f"[#{ticket.pk}] Refund" in subjects
    reply = AuditEvent.objects.get(audit__ticket=ticket, value__subject=f"[#{ticket.pk}] Refund")
    # one point of contact: the reply is signed by the ticket's owner
    assert reply.value["body"].startswith("Refund sent today\n\n— Alice 王")
    assert reply.value["recipients"] == [p.bob.pk]


def test_the_group_hears_of_new_tickets_and_the_assignee_of_assignment(installed):
    p, _tiers = installed
    ticket = create_ticket(
        actor=p.alice,
        data=TicketData(subject="Phone call", requester=p.bob, group=p.support),
        comment=NewComment(body="b"),
    )
    assert f"[New ticket 新工单] #{ticket.pk} Phone call" in notifications(ticket)
    colleague = accounts.create_user(name="Gina", email="gina@kefu.test", role=Role.AGENT,
                                     groups=[p.support])  # fmt: skip
    update_ticket(ticket, actor=p.alice, data=TicketData(assignee=colleague))
    assert notifications(ticket)[-1] == f"[Assigned to you 已分配给您] #{ticket.pk} Phone call"


def test_a_critical_complaint_is_urgent_and_goes_to_tier_2(installed):
    p, tiers = installed
    field = TicketField.objects.get(title=defaults.SEVERITY_TITLE)
    ticket = create_ticket(
        actor=p.alice,
        data=TicketData(subject="投诉", requester=p.bob, group=tiers[0],
                        custom_fields={field.pk: "complaint_1_critical"}),
        comment=NewComment(body="b"),
    )  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.priority == "urgent" and ticket.group == tiers[1]


def test_unsolved_tickets_climb_the_tiers_with_the_reason_recorded(installed):
    p, (tier1, tier2, tier3) = installed
    with clock.frozen_at(START):
        ticket = create_ticket(
            actor=p.alice,
            data=TicketData(subject="Slow app", requester=p.bob, group=tier1),
            comment=NewComment(body="b"),
        )
        waiting = create_ticket(
            actor=p.alice,
            data=TicketData(subject="Waiting", requester=p.bob, group=tier1, status="pending"),
            comment=NewComment(body="b"),
        )
    with clock.frozen_at(START + dt.timedelta(hours=23)):
        run_automations()
    ticket.refresh_from_db()
    assert ticket.group == tier1
    with clock.frozen_at(START + dt.timedelta(hours=24)):
        run_automations()
    ticket.refresh_from_db()
    waiting.refresh_from_db()
    assert ticket.group == tier2 and waiting.group == tier1  # pending tickets wait
    with clock.frozen_at(START + dt.timedelta(hours=24 + 48)):
        run_automations()
    ticket.refresh_from_db()
    assert ticket.group == tier3
    reasons = list(Escalation.objects.filter(ticket=ticket).values_list("reason", flat=True))
    assert reasons == [
        "Not solved by Tier 1 within 24 hours",
        "No progress in Tier 2 within 48 hours",
    ]
    audit = ticket.audits.filter(via_source__reason__isnull=False).order_by("created_at").last()
    assert audit.via_source["reason"] == "No progress in Tier 2 within 48 hours"
    assert audit.via_source["rel"] == "automation"


def test_tickets_that_came_by_email_get_the_email_channels_acknowledgement_only(installed):
    p, _tiers = installed
    ticket = create_ticket(
        actor=p.bob,
        data=TicketData(subject="By mail", via_channel="email"),
        comment=NewComment(body="b"),
    )
    assert notifications(ticket) == []


def test_every_default_rule_round_trips_through_the_builder_unchanged(installed):
    from django.http import QueryDict

    from kefu.rules import builder
    from kefu.rules.automations import check_automation
    from kefu.rules.conditions import parse_trigger_conditions
    from kefu.rules.rule_actions import bind_actions

    rules = [(builder.trigger_kind(), t) for t in Trigger.objects.all()]
    rules += [(builder.automation_kind(), a) for a in Automation.objects.all()]
    assert len(rules) >= 5  # the defaults of the data migrations
    from django.test import Client
    from django.urls import reverse

    personas, _tiers = installed
    client = Client()
    client.force_login(personas.admin)
    for kind, rule in rules:
        # the edit page renders
        url = "rules:edit_trigger" if kind.name == "trigger" else "rules:edit_automation"
        assert client.get(reverse(url, args=[rule.pk])).status_code == 200
        # and what its rows post is the stored rule, values as text
        rows = builder.rows_from_rules(kind, rule.conditions, rule.actions)
        data = QueryDict(mutable=True)
        for group in ("all", "any", "actions"):
            for row in rows[group]:
                data[f"{row.name}-field"] = row.field
                data[f"{row.name}-operator"] = row.operator
                for index, (_widget, value) in enumerate(row.widgets):
                    data[f"{row.name}-value" + (f"_{index}" if index else "")] = value
        posted = builder.read_rules(kind, data)
        for group in ("all", "any"):
            stored = rule.conditions.get(group) or []
            assert [(c["field"], c["operator"]) for c in posted.conditions[group]] == [
                (c["field"], c["operator"]) for c in stored
            ]
        assert [a["field"] for a in posted.actions] == [a["field"] for a in rule.actions]
        if kind.name == "trigger":
            parse_trigger_conditions(posted.conditions)
            bind_actions(posted.actions)
        else:
            check_automation(posted.conditions, posted.actions)
