"""Per-caller request limits: a fixed one-minute window counted in Django's cache.

With ``KEFU_REDIS_URL`` the cache is Redis, whose INCR is atomic, so every web process
counts against the same budget; without it the local-memory cache counts per process.
"""

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

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
    key = f"kefu:api-rate:{identity}:{window}"
    if cache.add(key, 1, timeout=WINDOW_SECONDS * 2):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
            count = 1
    retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    return Verdict(
        limit=limit,
        remaining=max(0, limit - count),
        retry_after=retry_after,
        allowed=count <= limit,
    )
