"""With Redis as the cache (``KEFU_REDIS_URL``), every process counts against one budget.

Needs Redis: ``KEFU_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/1``); skipped when
nothing answers there.
"""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.test import override_settings

from kefu.api import ratelimit

REDIS_URL = os.environ.get("KEFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


# Locally a missing Redis skips; in CI (where Redis runs) it is a failure, not a silent skip.
pytestmark = pytest.mark.skipif(
    not _redis_answers() and not os.environ.get("CI"), reason=f"no Redis at {REDIS_URL}"
)

OTHER_PROCESS = """
import django, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "kefu.settings"
django.setup()
from kefu.api import ratelimit
for _ in range(int(sys.argv[1])):
    ratelimit.hit(sys.argv[2])
"""


def test_two_processes_share_one_rate_limit_budget(tmp_path):
    # all hits must fall in one one-minute window
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)
    identity = f"u-test-{uuid.uuid4().hex}"
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    env = {**os.environ, "KEFU_REDIS_URL": REDIS_URL, "KEFU_DATA_DIR": str(tmp_path),
           "KEFU_API_RATE_LIMIT": "10"}  # fmt: skip
    with override_settings(CACHES=caches, KEFU_API_RATE_LIMIT=10):
        first = ratelimit.hit(identity)
        subprocess.run(  # noqa: S603 - this interpreter
            [sys.executable, "-c", OTHER_PROCESS, "7", identity], env=env, check=True
        )
        after = ratelimit.hit(identity)
        third = ratelimit.hit(identity)
        over = ratelimit.hit(identity)
    assert first.remaining == 9
    assert after.remaining == 1  # 1 + 7 + 1 requests counted in one window
    assert third.allowed and third.remaining == 0
    assert not over.allowed and 1 <= over.retry_after <= 60


def test_counting_a_request_is_one_round_trip_to_redis(monkeypatch):
    """Every API request counts: SET NX EX and INCR go out together (Django's add + incr
    would be three round trips: SET NX, EXISTS, INCR)."""
    import redis.connection

    sent: list[int] = []
    send = redis.connection.Connection.send_packed_command

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(1)
        return send(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting)
    identity = f"u-test-{uuid.uuid4().hex}"
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}  # fmt: skip
    with override_settings(CACHES=caches, KEFU_API_RATE_LIMIT=10):
        first = ratelimit.hit(identity)
        sent.clear()
        second = ratelimit.hit(identity)
    assert len(sent) == 1
    assert (first.remaining, second.remaining) == (9, 8)
