"""Collision awareness across web processes: presence lives in the cache, Redis when
``KEFU_REDIS_URL`` is set, so an agent in one process sees an agent served by another.

Needs Redis: ``KEFU_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/1``); skipped locally
when nothing answers there, a failure in CI (``CI`` set).
"""

import os
import subprocess
import sys

import pytest
from django.test import override_settings
from django.urls import reverse

from kefu.tickets import presence

from .views.conftest import make_ticket

REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


pytestmark = pytest.mark.skipif(
    not _redis_answers() and not os.environ.get("CI"), reason=f"no Redis at {REDIS_URL}"
)

# Another web process: configured by the environment only, as `kefu web` would be.
OTHER_PROCESS = """
import os, sys
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "kefu.settings"
django.setup()
from django.conf import settings
from kefu.accounts.models import User
from kefu.tickets import presence
assert "redis" in settings.CACHES["default"]["BACKEND"].lower(), settings.CACHES
for _ in range(int(sys.argv[4]) if len(sys.argv) > 4 else 1):
    presence.touch(int(sys.argv[1]), User(pk=int(sys.argv[2]), name=sys.argv[3]))
"""

REDIS_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}


def other_process(tmp_path, ticket_id: int, user_id: int, name: str, polls: int = 1):  # type: ignore[no-untyped-def]
    env = {**os.environ, "KEFU_REDIS_URL": REDIS_URL, "KEFU_DATA_DIR": str(tmp_path)}
    return subprocess.Popen(  # noqa: S603 - this interpreter
        [sys.executable, "-c", OTHER_PROCESS, str(ticket_id), str(user_id), name, str(polls)],
        env=env,
    )


def other_process_opens(tmp_path, ticket_id: int, user_id: int, name: str) -> None:
    assert other_process(tmp_path, ticket_id, user_id, name).wait() == 0


def forget(ticket_id: int) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.keys(f"*{presence._key(ticket_id)}*"):
        client.delete(key)


def test_an_agent_in_another_process_is_shown_on_the_ticket(client, personas, tmp_path):
    ticket = make_ticket(personas)
    with override_settings(CACHES=REDIS_CACHE):
        forget(ticket.pk)
        other_process_opens(tmp_path, ticket.pk, personas.admin.pk, "王经理 Admin")
        client.force_login(personas.alice)
        html = client.get(reverse("tickets:presence", args=[ticket.pk])).content.decode()
        seen_by_other = presence.touch(ticket.pk, personas.admin)
        forget(ticket.pk)
    assert "王经理 Admin" in html
    assert [v.user_id for v in seen_by_other] == [personas.alice.pk]


def test_presence_is_in_redis_not_in_this_process(personas, tmp_path):
    ticket = make_ticket(personas)
    with override_settings(CACHES=REDIS_CACHE):
        forget(ticket.pk)
        presence.touch(ticket.pk, personas.alice)
        import redis

        keys = redis.Redis.from_url(REDIS_URL).keys(f"*{presence._key(ticket.pk)}*")
        presence.leave(ticket.pk, personas.alice)
        after_leaving = presence.touch(ticket.pk, personas.admin)
        forget(ticket.pk)
    assert len(keys) == 2  # the roster and alice's own entry
    assert after_leaving == []


def test_agents_polling_at_once_from_two_processes_are_both_seen(personas, tmp_path):
    ticket = make_ticket(personas)
    with override_settings(CACHES=REDIS_CACHE):
        forget(ticket.pk)
        first = other_process(tmp_path, ticket.pk, 900001, "甲 Agent A", polls=200)
        second = other_process(tmp_path, ticket.pk, 900002, "乙 Agent B", polls=200)
        assert first.wait() == 0 and second.wait() == 0
        seen = {v.name for v in presence.touch(ticket.pk, personas.alice)}
        forget(ticket.pk)
    assert seen == {"甲 Agent A", "乙 Agent B"}
