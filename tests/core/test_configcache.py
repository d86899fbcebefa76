"""The per-process configuration cache: one fingerprint statement per unit of work, and a
change — by this process's actions or behind them by another process — is seen at once."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core import configcache
from kefu.tickets.actions import create_custom_status, create_ticket_field, update_ticket_field
from kefu.tickets.actions.fields import active_fields_by_id, default_custom_status
from kefu.tickets.models import CustomStatus, TicketField

pytestmark = pytest.mark.django_db


def test_a_unit_of_work_reads_the_fingerprints_once(personas):
    active_fields_by_id(), default_custom_status("open")  # warm
    with CaptureQueriesContext(connection) as outside:
        active_fields_by_id(), default_custom_status("open")
    with configcache.unit(), CaptureQueriesContext(connection) as inside:
        active_fields_by_id(), default_custom_status("open"), active_fields_by_id()
    assert len(outside.captured_queries) == 2
    assert len(inside.captured_queries) == 1


def test_a_change_through_the_actions_is_seen_at_once_even_inside_a_unit(personas):
    field = create_ticket_field(type="text", title="Order")
    with configcache.unit():
        assert field.pk in active_fields_by_id()
        update_ticket_field(field, active=False)
        assert field.pk not in active_fields_by_id()


def test_a_change_behind_the_actions_is_seen_by_the_next_read(personas):
    # given a cached field list and default status
    field = create_ticket_field(type="text", title="Order")
    assert field.pk in active_fields_by_id()
    status = default_custom_status("open")
    # when another process deactivates the field and the default status's label changes
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    TicketField.objects.filter(pk=field.pk).update(active=False, updated_at=later)
    CustomStatus.objects.filter(pk=status.pk).update(agent_label="Working", updated_at=later)
    # then the next reads see both
    assert field.pk not in active_fields_by_id()
    assert default_custom_status("open").agent_label == "Working"


def test_a_new_custom_status_does_not_change_the_default(personas):
    default = default_custom_status("pending")
    create_custom_status(status_category="pending", agent_label="Waiting on vendor")
    assert default_custom_status("pending").pk == default.pk
