"""Who has a ticket open: a small record per ticket in the cache, refreshed by each open page.

The ticket page polls every ~10 seconds; an agent who has not polled for ``PRESENCE_SECONDS``
is gone. With ``KEFU_REDIS_URL`` the cache is shared by every web process; with the default
local-memory cache it covers the one process ``kefu run`` starts. A lost update (two agents
polling at the same instant) only hides someone until their next poll.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache

from kefu.accounts.models import User

PRESENCE_SECONDS = 30


@dataclass(frozen=True)
class Viewer:
    user_id: int
    name: str
    seen: float


def _key(ticket_id: int) -> str:
    return f"kefu:presence:ticket:{ticket_id}"


def touch(ticket_id: int, user: User) -> list[Viewer]:
    """Record that ``user`` has the ticket open; return the *other* agents who have it open."""
    now = time.time()
    entries: dict[int, tuple[str, float]] = cache.get(_key(ticket_id)) or {}
    entries = {uid: v for uid, v in entries.items() if now - v[1] < PRESENCE_SECONDS}
    entries[user.pk] = (user.name, now)
    cache.set(_key(ticket_id), entries, PRESENCE_SECONDS * 2)
    return [Viewer(uid, name, seen) for uid, (name, seen) in entries.items() if uid != user.pk]


def leave(ticket_id: int, user: User) -> None:
    entries: dict[int, tuple[str, float]] = cache.get(_key(ticket_id)) or {}
    if entries.pop(user.pk, None) is not None:
        cache.set(_key(ticket_id), entries, PRESENCE_SECONDS * 2)
