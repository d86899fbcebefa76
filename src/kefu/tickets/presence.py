"""Who has a ticket open, kept in the cache and refreshed by each open page.

The ticket page polls every ~10 seconds; an agent who has not polled for ``PRESENCE_SECONDS``
is gone. With ``KEFU_REDIS_URL`` the cache is Redis, shared by every web process (settings:
``CACHES``); with the default local-memory cache it covers the one process ``kefu run``
starts.

Each viewer has a key of their own (``...:ticket:<id>:user:<id>``, expiring by itself), so
a poll writes only its own entry and two agents polling at the same moment from two
processes never overwrite each other. A small roster per ticket lists who may be there; it
is written only when someone joins who is not on it (or to drop those who expired), and a
join lost to a race is repaired by that agent's next poll, which finds itself missing.
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
    """The ticket's roster: the ids of agents who may have it open."""
    return f"kefu:presence:ticket:{ticket_id}"


def _viewer_key(ticket_id: int, user_id: int) -> str:
    return f"kefu:presence:ticket:{ticket_id}:user:{user_id}"


def touch(ticket_id: int, user: User) -> list[Viewer]:
    """Record that ``user`` has the ticket open; return the *other* agents who have it open."""
    now = time.time()
    cache.set(_viewer_key(ticket_id, user.pk), (user.name, now), PRESENCE_SECONDS)
    roster: set[int] = cache.get(_key(ticket_id)) or set()
    others = sorted(uid for uid in roster if uid != user.pk)
    found = cache.get_many([_viewer_key(ticket_id, uid) for uid in others])
    viewers = []
    present = {user.pk}
    for uid in others:
        entry = found.get(_viewer_key(ticket_id, uid))
        if entry is not None and now - entry[1] < PRESENCE_SECONDS:
            viewers.append(Viewer(uid, entry[0], entry[1]))
            present.add(uid)
    if present != roster:
        cache.set(_key(ticket_id), present, PRESENCE_SECONDS * 4)
    else:
        cache.touch(_key(ticket_id), PRESENCE_SECONDS * 4)
    return viewers


def leave(ticket_id: int, user: User) -> None:
    cache.delete(_viewer_key(ticket_id, user.pk))
