"""The SLA management commands: rebuild, and loading China's holidays."""

import io

import pytest
from django.core.management import CommandError, call_command

from kefu.core import clock
from kefu.sla.models import SlaMetricState

from .helpers import SHANGHAI, local, metric, office, open_ticket, policy

pytestmark = pytest.mark.django_db


def test_rebuild_recreates_the_live_state_from_the_audit_events(personas):
    office()
    policy(first_reply_time=60)
    opened = local(SHANGHAI, 2026, 11, 23, 9, 0)
    ticket = open_ticket(personas, opened)
    due = metric(ticket, "first_reply_time").breach_at
    SlaMetricState.objects.all().delete()
    out = io.StringIO()
    with clock.frozen_at(opened):
        call_command("sla_rebuild", "--all", stdout=out)
    assert "Rebuilt the SLAs of 1 tickets." in out.getvalue()
    assert metric(ticket, "first_reply_time").breach_at == due


def test_china_holidays_load_for_the_years_given_and_name_the_missing_ones(db):
    schedule = office()
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "sla_china_holidays", "--schedule", str(schedule.pk), "--year", "2026", "--year", "2099",
        stdout=out, stderr=err,
    )  # fmt: skip
    assert "6 working days for 2026" in out.getvalue()
    assert "2099" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("sla_china_holidays", "--schedule", "1")
