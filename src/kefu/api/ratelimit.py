"""Per-caller request limits: a fixed one-minute window counted in Django's cache.

With ``KEFU_REDIS_URL`` the cache is Redis, whose INCR is atomic, so every web process
counts against the same budget; without it the local-memory cache counts per process.

Every API request counts, so on Redis the count is one round trip: ``SET key 0 EX NX`` and
``INCR key`` sent together. Django's cache API needs three in the usual case (``add`` fails
because the window's key exists, then ``incr`` asks ``EXISTS`` before ``INCR``).
"""

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Verdict:
    limit: int
    remaining: int
    retry_after: int  # seconds until the window resets; meaningful when not allowed
    allowed: bool


def limit_per_minute() -> int:
    return int(settings.KEFU_API_RATE_LIMIT)


def hit(identity: str, *, now: float | None = None) -> Verdict:
    """Count one request for ``identity`` and say whether it is within the limit."""
    limit = limit_per_minute()
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    count = _count(f"kefu:api-rate:{identity}:{window}")
    retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    return Verdict(
        limit=limit,
        remaining=max(0, limit - count),
        retry_after=retry_after,
        allowed=count <= limit,
    )


def _count(key: str) -> int:
    """Add one to the window's counter (made, expiring after two windows, if missing)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        raw = backend.make_and_validate_key(key)
        client = backend._cache.get_client(raw, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.set(raw, 0, ex=WINDOW_SECONDS * 2, nx=True)
        pipe.incr(raw)
        _made, count = pipe.execute()
        return int(count)
    if cache.add(key, 1, timeout=WINDOW_SECONDS * 2):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        return 1
