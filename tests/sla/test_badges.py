"""SLA badges: time left in words, red once breached (the scheduler's breach included)."""

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import translation

from kefu.core import clock
from kefu.sla import actions as sla

from .helpers import SHANGHAI, local, office, open_ticket, policy

pytestmark = pytest.mark.django_db


def render(ticket) -> str:  # type: ignore[no-untyped-def]
    return Template("{% load sla %}{% sla_badges ticket %}").render(Context({"ticket": ticket}))


def test_a_badge_counts_down_in_business_minutes_and_turns_red_after_the_breach(personas):
    office()
    policy(first_reply_time=60)
    opened = local(SHANGHAI, 2026, 11, 23, 9, 0)
    ticket = open_ticket(personas, opened)
    with clock.frozen_at(opened + dt.timedelta(minutes=37)), translation.override("zh-hans"):
        assert ">回复剩余 23 分钟<" in render(ticket)
    with clock.frozen_at(opened + dt.timedelta(minutes=37)), translation.override("en"):
        html = render(ticket)
        assert ">Reply due in 23m<" in html and "sla-badge--breached" not in html
    with clock.frozen_at(opened + dt.timedelta(minutes=65)):
        sla.record_due_events()
        with translation.override("en"):
            html = render(ticket)
    assert "sla-badge--breached" in html and ">Reply overdue by 5m<" in html
