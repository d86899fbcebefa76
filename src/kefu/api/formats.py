"""Value formats of the public API."""

import datetime as dt

ZENDESK_TIME = "%Y-%m-%dT%H:%M:%SZ"


def timestamp(value: dt.datetime | None) -> str | None:
    """``2026-11-25T14:30:00Z`` (UTC, whole seconds), as Zendesk writes times."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime(ZENDESK_TIME)


def date_or_time(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timestamp(value)
    return value.isoformat()
