"""The SLA report: attainment per policy, metric, group and agent, and its CSV."""

import pytest
from django.core.exceptions import PermissionDenied

from kefu.core import clock
from kefu.sla.reports import attainment, attainment_csv
from kefu.tickets.actions import TicketData, update_ticket

from .helpers import SHANGHAI, agent_reply, local, office, open_ticket, policy

pytestmark = pytest.mark.django_db


def test_attainment_counts_achieved_and_breached_replies_and_lists_breached_tickets(personas):
    p = personas
    office()
    policy(first_reply_time=60)
    on_time = open_ticket(p, local(SHANGHAI, 2026, 11, 23, 9, 0))
    late = open_ticket(p, local(SHANGHAI, 2026, 11, 23, 9, 0))
    for ticket in (on_time, late):
        with clock.frozen_at(local(SHANGHAI, 2026, 11, 23, 9, 1)):
            update_ticket(ticket, actor=p.alice, data=TicketData(group=p.support, assignee=p.alice))
    agent_reply(p, on_time, local(SHANGHAI, 2026, 11, 23, 9, 30))
    agent_reply(p, late, local(SHANGHAI, 2026, 11, 23, 11, 0))
    rows = attainment(
        user=p.admin,
        start=local(SHANGHAI, 2026, 11, 23, 0, 0),
        end=local(SHANGHAI, 2026, 11, 24, 0, 0),
    )
    reply = [r for r in rows if r.metric == "reply_time"]
    assert [(r.policy, r.achieved, r.breached, r.attainment) for r in reply] == [
        ("Standard 标准", 1, 1, 50.0)
    ]
    assert reply[0].breached_ticket_ids == [late.pk]
    text = attainment_csv(rows)
    assert text.startswith("\ufeffpolicy,metric,group,agent,achieved,breached")
    assert f"Standard 标准,reply_time,Support,Alice 王,1,1,50.0,{late.pk}" in text


def test_end_users_cannot_see_the_report(personas):
    with pytest.raises(PermissionDenied):
        attainment(
            user=personas.bob,
            start=local(SHANGHAI, 2026, 11, 23, 0, 0),
            end=local(SHANGHAI, 2026, 11, 24, 0, 0),
        )
