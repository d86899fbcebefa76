"""The email channel's configuration — support addresses, the settings row, the templates —
read once and kept per process, checked with one cheap query.

Processing a message used to read the same rows a dozen times (every support-address check,
``EmailSettings.load()``, the template). ``current()`` answers from a per-process snapshot,
re-read only when a version query (row counts, newest ``updated_at``, id range of the three
tables, in one statement) says another process or this one changed something. While a message
is processed (``snapshot()``), even the version query runs once.
"""

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction

from kefu.core import configcache

from .models import EmailSettings, EmailTemplate, SupportAddress


@dataclass(frozen=True)
class EmailConfig:
    addresses: dict[str, SupportAddress]
    default: SupportAddress | None
    settings: EmailSettings
    templates: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def find(self, address: str) -> SupportAddress | None:
        """The support address mail to ``address`` is for (``local+tag@`` counts as ``local@``)."""
        address = address.strip().lower()
        found = self.addresses.get(address)
        if found is None:
            local, _at, domain = address.rpartition("@")
            base, plus, _tag = local.partition("+")
            if plus:
                found = self.addresses.get(f"{base}@{domain}")
        return found


_lock = threading.Lock()
_cached: dict[str, object] = {"key": None, "config": None}
_snapshot: contextvars.ContextVar[EmailConfig | None] = contextvars.ContextVar(
    "email_config", default=None
)


# The version is one part of the fingerprint query kefu.core.configcache runs once per unit
# of work for every per-process configuration cache.
CONFIG = "email.config"


def _fingerprint() -> list[str]:
    addresses = SupportAddress._meta.db_table
    templates = EmailTemplate._meta.db_table
    email_settings = EmailSettings._meta.db_table
    return [
        f"SELECT COUNT(*) FROM {addresses}",  # noqa: S608 - table names
        f"SELECT MAX(updated_at) FROM {addresses}",  # noqa: S608
        f"SELECT MIN(id) FROM {addresses}",  # noqa: S608
        f"SELECT MAX(id) FROM {addresses}",  # noqa: S608
        # a deleted group empties group_id without touching updated_at
        f"SELECT COUNT(group_id) FROM {addresses}",  # noqa: S608
        f"SELECT COUNT(*) FROM {templates}",  # noqa: S608
        f"SELECT MAX(updated_at) FROM {templates}",  # noqa: S608
        f"SELECT MAX(updated_at) FROM {email_settings}",  # noqa: S608
    ]


configcache.register(CONFIG, _fingerprint)


def _version() -> tuple[object, ...]:
    return (settings.SUPPORT_EMAIL, *configcache.version(CONFIG))


def seed(*, using: str = "default") -> bool:
    """``KEFU_SUPPORT_EMAIL`` becomes the first (default) support address when there is none;
    True if it was created. A write: run after ``migrate``, when the SMTP receiver starts and
    before an admin's first change to the addresses — never on a read (``_load`` falls back to
    an unsaved address instead)."""
    if not settings.SUPPORT_EMAIL or SupportAddress.objects.using(using).exists():
        return False
    try:
        with transaction.atomic(using=using):
            SupportAddress.objects.using(using).create(email=settings.SUPPORT_EMAIL, default=True)
    except IntegrityError:
        return False  # another process seeded it first
    return True


def _load() -> EmailConfig:
    rows = list(SupportAddress.objects.select_related("group").order_by("-default", "id"))
    if not rows and settings.SUPPORT_EMAIL:
        # Not seeded yet (nothing has written since KEFU_SUPPORT_EMAIL was set): mail to it is
        # still answered, from an unsaved address that the next seeding saves as it is.
        rows = [SupportAddress(email=settings.SUPPORT_EMAIL, default=True)]
    return EmailConfig(
        addresses={row.email.lower(): row for row in rows},
        default=rows[0] if rows else None,
        settings=EmailSettings.load(),
        templates={
            (key, locale): (subject, body)
            for key, locale, subject, body in EmailTemplate.objects.values_list(
                "key", "locale", "subject", "body"
            )
        },
    )


def current() -> EmailConfig:
    """The configuration as it is now (inside ``snapshot()``: as it was when it began)."""
    pinned = _snapshot.get()
    if pinned is not None:
        return pinned
    key = _version()
    with _lock:
        if _cached["key"] == key:
            return _cached["config"]  # type: ignore[return-value]
    config = _load()
    with _lock:
        _cached["key"], _cached["config"] = key, config
    return config


@contextlib.contextmanager
def snapshot() -> Iterator[EmailConfig]:
    """Read the configuration once for a unit of work (processing one message); the tickets
    actions it calls share the fingerprint query (``kefu.core.configcache.unit``)."""
    with configcache.unit():
        config = current()
        token = _snapshot.set(config)
        try:
            yield config
        finally:
            _snapshot.reset(token)


def forget() -> None:
    """Drop this process's copy (tests that change rows behind the ORM's back)."""
    with _lock:
        _cached["key"], _cached["config"] = None, None
