"""Time-zone names: IANA names (``Asia/Shanghai``) and Zendesk's names (``Beijing``).

Zendesk's API speaks Rails' zone names ("Pacific Time (US & Canada)"); the mapping ships in
``data/zendesk_time_zones.json``. A schedule stores the name an admin gave; ``resolve`` turns
it into the IANA name the arithmetic uses.
"""

import functools
import json
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_DATA = Path(__file__).parent / "data" / "zendesk_time_zones.json"


@functools.cache
def zendesk_zones() -> dict[str, str]:
    """Zendesk name -> IANA name."""
    return dict(json.loads(_DATA.read_text(encoding="utf-8"))["zones"])


@functools.cache
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def resolve(name: str) -> str | None:
    """The IANA name for an IANA or Zendesk name; None when it names no zone."""
    name = (name or "").strip()
    if not name:
        return None
    if name in zendesk_zones():
        return zendesk_zones()[name]
    if name in _iana_names() or name == "UTC":
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return None
        return name
    return None


def zendesk_name(iana: str) -> str:
    """The Zendesk name for an IANA zone when there is one (the first listed), else ``iana``."""
    for zendesk, zone in zendesk_zones().items():
        if zone == iana:
            return zendesk
    return iana
