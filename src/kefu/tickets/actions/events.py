"""History entries that change no ticket field: an SLA warning or breach, a satisfaction
rating, a delivery report. Other apps add them here rather than writing audits themselves."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from kefu.accounts.models import User
from kefu.core import clock

from .. import hooks
from ..models import Audit, Ticket
from .audit import AuditWriter


@dataclass(frozen=True)
class Event:
    """One audit event: ``type`` from ``EventType`` (or an app's own), Zendesk's fields."""

    type: str
    field_name: str = ""
    value: Any = None
    previous_value: Any = None


def record_events(
    ticket: Ticket,
    events: Iterable[Event],
    *,
    actor: User | None,
    via_channel: str,
    via_source: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
    audit: Audit | None = None,
    touch: bool = False,
) -> Audit | None:
    """Add ``events`` to ``ticket``'s history in one audit by ``actor`` (None: the system).

    With ``audit`` (a hook adding to the change in progress) they join that audit with their
    own ``via``, as a trigger's changes do. ``touch`` moves the ticket's ``updated_at`` (a
    rating is an update in Zendesk; an SLA breach is not). Runs no ticket hooks: nothing on
    the ticket changed. Returns the audit, or None when there were no events."""
    events = list(events)
    if not events:
        return None
    now = at or clock.now()
    writer = AuditWriter(
        ticket,
        author=actor,
        via_channel=via_channel,
        via_source=via_source or {},
        created_at=now,
        join=audit,
    )
    for event in events:
        writer.other(
            event.type,
            field_name=event.field_name,
            value=event.value,
            previous_value=event.previous_value,
        )
    with transaction.atomic():
        saved = writer.save()
        if touch:
            Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
            hooks.touched(ticket.pk)
    return saved
