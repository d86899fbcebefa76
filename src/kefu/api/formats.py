"""Value formats of the public API."""

import datetime as dt
import json
from typing import Any

from django.http import HttpResponse
from ninja.responses import NinjaJSONEncoder

ZENDESK_TIME = "%Y-%m-%dT%H:%M:%SZ"


def timestamp(value: dt.datetime | None) -> str | None:
    """``2026-11-25T14:30:00Z`` (UTC, whole seconds), as Zendesk writes times."""
    if value is None:
        return None
    if value.tzinfo is not dt.UTC:  # the database's datetimes are UTC already
        value = value.astimezone(dt.UTC)
    # = strftime(ZENDESK_TIME), at half the cost (three per ticket, 300 per page of 100)
    return value.isoformat(timespec="seconds")[:19] + "Z"


def date_or_time(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timestamp(value)
    return value.isoformat()


def prebuilt(data: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """Answer with ``data`` exactly as our serializers built it.

    Returning a dict makes django-ninja validate it again, field by field, through the
    operation's response schema — for a page of 100 tickets that was a third of the request.
    The serializers (``tickets_json`` and friends) already build the documented shape, so list
    and show endpoints answer with this instead; the ``response=`` schema still documents the
    body in OpenAPI, and ``tests/api/test_prebuilt.py`` checks the two agree."""
    body = json.dumps(data, cls=NinjaJSONEncoder, ensure_ascii=False)
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
