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


def test_kefu_support_email_is_answered_at_once_and_saved_by_seeding(personas, settings):
    settings.SUPPORT_EMAIL = "help@kefu.test"
    assert is_support_address("help@kefu.test") is True
    assert not SupportAddress.objects.exists()

    assert config.seed() is True
    assert config.seed() is False
    assert SupportAddress.objects.get().default is True
    assert find_support_address("help@kefu.test").pk is not None


# --- Reads do not write -----------------------------------------------------------------------

WRITES = ("INSERT", "UPDATE", "DELETE")


def _email_writes(captured: CaptureQueriesContext) -> list[str]:
    """Statements that wrote to the email channel's tables (other apps' bookkeeping, such as
    a session or an API token's last use, is not this channel's business)."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(WRITES) and '"email_' in query["sql"]
    ]


def test_pages_api_and_config_reads_write_nothing_and_fall_back_to_defaults(personas, settings):
    from django.test import Client
    from django.urls import reverse

    from kefu.channels.email.rendering import locale_of, template_for
    from tests.api.conftest import ApiClient

    # given KEFU_SUPPORT_EMAIL, no support address saved and no settings row
    settings.SUPPORT_EMAIL = "help@kefu.test"
    config.forget()
    admin = Client()
    admin.force_login(personas.admin)
    api = ApiClient(personas.admin)
    pages = [
        reverse("email:admin"),
        reverse("email:settings"),
        reverse("email:new_address"),
        reverse("email:new_mailbox"),
        reverse("email:edit_template", args=["acknowledgement", "zh-hans"]),
    ]
    # when admins look at every email page and the API, and processing reads the config
    with CaptureQueriesContext(connection) as captured:
        statuses = [admin.get(url).status_code for url in pages]
        listed = api.get("recipient_addresses")
        current = config.current()
        rate_limit = current.settings.sender_rate_limit
        found = find_support_address("help+t1-x@kefu.test")
        template_for("acknowledgement", "en")
        locale_of(None)
        EmailSettings.load()
    # then nothing was written, and the reads saw the defaults
    assert statuses == [200] * len(pages)
    assert listed.status_code == 200
    assert _email_writes(captured) == []
    assert not SupportAddress.objects.exists()
    assert not EmailSettings.objects.exists()
    assert rate_limit == 20
    assert found is not None and found.email == "help@kefu.test" and found.default
    assert "help@kefu.test" in admin.get(reverse("email:admin")).content.decode()


def test_the_first_address_write_seeds_kefu_support_email_first(personas, settings):
    settings.SUPPORT_EMAIL = "help@kefu.test"
    config.forget()

    actions.create_support_address(email="sales@kefu.test")

    assert list(
        SupportAddress.objects.order_by("-default", "email").values_list("email", "default")
    ) == [("help@kefu.test", True), ("sales@kefu.test", False)]


def test_migrate_seeds_kefu_support_email_once(personas, settings):
    from django.core.management import call_command

    settings.SUPPORT_EMAIL = "help@kefu.test"
    call_command("migrate", interactive=False, verbosity=0)
    call_command("migrate", interactive=False, verbosity=0)

    assert list(SupportAddress.objects.values_list("email", "default")) == [
        ("help@kefu.test", True)
    ]


def test_saving_the_settings_the_first_time_creates_the_row(personas):
    actions.update_email_settings(sender_rate_limit=5)

    assert EmailSettings.objects.get().sender_rate_limit == 5
    assert config.current().settings.sender_rate_limit == 5
