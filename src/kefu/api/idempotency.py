"""``Idempotency-Key`` on POST: the first response is kept for 24 hours and replayed for a
retry with the same key and body; the same key with another body is refused (422).

Keys are scoped to the caller. Records live in Django's cache (Redis when configured, so
all processes share them). A retry that arrives while the first request is still running
gets 409, so a slow create is never run twice.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

TTL_SECONDS = 24 * 60 * 60
IN_PROGRESS_SECONDS = 120
HEADER = "HTTP_IDEMPOTENCY_KEY"


@dataclass(frozen=True)
class Claim:
    key: str
    fingerprint: str


def _key(identity: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()
    return f"kefu:api-idem:{identity}:{digest}"


def fingerprint(request: HttpRequest) -> str:
    h = hashlib.sha256()
    h.update(request.method.encode() if request.method else b"")
    h.update(b"\0" + request.get_full_path().encode() + b"\0")
    h.update(request.body)
    return h.hexdigest()


def lookup(request: HttpRequest, identity: str) -> tuple[str, Any]:
    """("none", None) | ("replay", stored) | ("mismatch", None) | ("busy", None) |
    ("claimed", Claim)."""
    value = request.META.get(HEADER, "").strip()
    if request.method != "POST" or not value:
        return "none", None
    key = _key(identity, value)
    try:
        print_ = fingerprint(request)
    except RequestDataTooBig:
        return "none", None  # the endpoint answers 413; nothing to replay
    stored = cache.get(key)
    if stored is not None:
        if stored["fingerprint"] != print_:
            return "mismatch", None
        if stored.get("pending"):
            return "busy", None
        return "replay", stored
    if not cache.add(key, {"fingerprint": print_, "pending": True}, timeout=IN_PROGRESS_SECONDS):
        return lookup(request, identity)
    return "claimed", Claim(key, print_)


def store(claim: Claim, response: HttpResponse) -> None:
    """Keep the response; a server error or rate-limit answer frees the key for a retry."""
    if response.status_code >= 500 or response.status_code == 429 or response.streaming:
        cache.delete(claim.key)
        return
    cache.set(
        claim.key,
        {
            "fingerprint": claim.fingerprint,
            "status": response.status_code,
            "content": response.content,
            "content_type": response.get("Content-Type", "application/json"),
            "location": response.get("Location"),
        },
        timeout=TTL_SECONDS,
    )


def release(claim: Claim) -> None:
    cache.delete(claim.key)


def replay(stored: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(
        stored["content"], status=stored["status"], content_type=stored["content_type"]
    )
    if stored.get("location"):
        response["Location"] = stored["location"]
    return response
