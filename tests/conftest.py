"""Shared fixtures. Personas as in CONVENTIONS.md: alice (agent in Support), bob (end user at
Acme), carol (end user at Globex, must not see Acme's tickets), admin."""

import os
from dataclasses import dataclass

import pytest
from django.conf import settings

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.accounts.models import Group, User
from kefu.crm import actions as crm
from kefu.crm.models import Organization


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    return f"kefu database: {settings.DATABASES['default']['ENGINE']}"


def pytest_sessionstart(session):  # type: ignore[no-untyped-def]
    # In CI a PostgreSQL run that silently fell back to SQLite would prove nothing.
    url = os.environ.get("KEFU_TEST_DATABASE_URL", "")
    if url.startswith("postgres"):
        assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@dataclass
class Personas:
    admin: User
    alice: User
    bob: User
    carol: User
    support: Group
    acme: Organization
    globex: Organization


def make_personas() -> Personas:
    support = accounts.create_group(name="Support", default=True)
    acme = crm.create_organization(name="Acme", domain_names=["acme.test"])
    globex = crm.create_organization(name="Globex 环球", domain_names=["globex.test"])
    admin = accounts.create_user(
        name="Admin", email="admin@kefu.test", role=Role.ADMIN, password="correct horse 42"
    )
    alice = accounts.create_user(
        name="Alice 王", email="alice@kefu.test", role=Role.AGENT, password="correct horse 42",
        groups=[support],
    )  # fmt: skip
    bob = accounts.create_user(name="Bob", email="bob@acme.test", password="correct horse 42")
    carol = accounts.create_user(name="Carol 陈", email="carol@globex.test")
    return Personas(admin, alice, bob, carol, support, acme, globex)


@pytest.fixture
def personas(db) -> Personas:  # type: ignore[no-untyped-def]
    return make_personas()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Tests start from an empty instance: the default rules, tier groups and complaint field
    that ``rules/migrations/0002_default_rules`` installs are removed once per session
    (tests/rules/test_defaults.py installs them again and checks them)."""
    from kefu.rules.models import Automation, Trigger, TriggerCategory
    from kefu.tickets.models import TicketField

    with django_db_blocker.unblock():
        Trigger.objects.all().delete()
        TriggerCategory.objects.all().delete()
        Automation.objects.all().delete()
        TicketField.objects.filter(title="Complaint severity / 投诉等级").delete()
        Group.objects.filter(
            name__in=["Tier 1 一线支持", "Tier 2 二线专家", "Tier 3 研发"]
        ).delete()
        # Tests with serialized_rollback restore what was serialized right after migrating:
        # serialize again, without the defaults.
        from django.db import connections

        for connection in connections.all():
            if getattr(connection, "_test_serialized_contents", None) is not None:
                connection._test_serialized_contents = connection.creation.serialize_db_to_string()


@pytest.fixture(autouse=True)
def _english_between_tests():  # type: ignore[no-untyped-def]
    """Each test starts in English: a page or a signed-in user's locale activates a language
    for the thread, and the next test in the same worker must not inherit it."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
