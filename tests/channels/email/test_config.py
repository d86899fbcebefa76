"""The per-process copy of the email configuration follows every change, whoever makes it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.accounts import actions as accounts
from kefu.channels.email import actions, config
from kefu.channels.email.addresses import find_support_address, is_support_address
from kefu.channels.email.models import EmailSettings, SupportAddress

from .conftest import SUPPORT

pytestmark = pytest.mark.django_db


def test_a_change_made_behind_the_cache_is_seen_at_the_next_lookup(personas):
    actions.create_support_address(email=SUPPORT)
    assert is_support_address("sales@kefu.test") is False
    # another process adds an address (no action in this process to tell the cache)
    SupportAddress.objects.create(email="sales@kefu.test")
    assert is_support_address("Sales+t5-abc@kefu.test") is True
    SupportAddress.objects.filter(email="sales@kefu.test").delete()
    assert is_support_address("sales@kefu.test") is False
    EmailSettings.objects.update_or_create(pk=1, defaults={"sender_rate_limit": 7})
    assert config.current().settings.sender_rate_limit == 7


def test_deleting_a_routing_group_drops_it_from_the_cached_address(personas):
    group = accounts.create_group(name="售后")
    actions.create_support_address(email=SUPPORT, group=group)
    assert find_support_address(SUPPORT).group == group
    accounts.delete_group(group)  # SET NULL, without touching updated_at
    assert find_support_address(SUPPORT).group is None


def test_lookups_cost_one_query_and_none_inside_a_snapshot(personas):
    actions.create_support_address(email=SUPPORT)
    find_support_address(SUPPORT)
    with CaptureQueriesContext(connection) as outside:
        find_support_address(SUPPORT)
        is_support_address("bob@acme.test")
    assert len(outside) == 2  # the version query each time, no table reads
    with CaptureQueriesContext(connection) as inside, config.snapshot():
        for _ in range(5):
            find_support_address(SUPPORT)
        config.current().settings  # noqa: B018
    assert len(inside) == 1


def test_kefu_support_email_seeds_the_first_address(personas, settings):
    settings.SUPPORT_EMAIL = "help@kefu.test"
    assert is_support_address("help@kefu.test") is True
    assert SupportAddress.objects.get().default is True
