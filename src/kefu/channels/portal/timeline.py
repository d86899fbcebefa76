"""The status timeline customers see: received → in progress → waiting for you → solved.

The ticket's status category decides the current step; the audit's status changes give the
moment each step was last reached. Custom statuses only rename steps, never add them."""

import datetime as dt
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kefu.tickets.choices import EventType, Status
from kefu.tickets.models import AuditEvent, Ticket

STEPS: list[tuple[str, Promise, Promise]] = [
    ("received", _("Received"), _("We have your request.")),
    ("in_progress", _("In progress"), _("Our team is working on it.")),
    ("waiting", _("Waiting for you"), _("We need an answer from you to go on.")),
    ("solved", _("Solved"), _("We think this is done. Reply if it is not.")),
]
STEP_OF_STATUS: dict[str, str] = {
    Status.NEW: "received",
    Status.OPEN: "in_progress",
    Status.HOLD: "in_progress",
    Status.PENDING: "waiting",
    Status.SOLVED: "solved",
    Status.CLOSED: "solved",
}


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    description: str
    state: str  # "done", "current" or "upcoming"
    reached_at: dt.datetime | None


def status_timeline(ticket: Ticket) -> list[Step]:
    """The four steps with their state; one query (the ticket's status changes)."""
    reached: dict[str, dt.datetime] = {"received": ticket.created_at}
    changes = (
        AuditEvent.objects.filter(audit__ticket=ticket, type=EventType.CHANGE, field_name="status")
        .order_by("audit__created_at", "id")
        .values_list("value", "audit__created_at")
    )
    for value, at in changes:
        step = STEP_OF_STATUS.get(str(value))
        if step is not None:
            reached[step] = at
    current = STEP_OF_STATUS.get(ticket.status, "received")
    keys = [key for key, _label, _text in STEPS]
    position = keys.index(current)
    steps = []
    for index, (key, label, text) in enumerate(STEPS):
        state = "done" if index < position else "current" if index == position else "upcoming"
        steps.append(
            Step(
                key=key,
                label=str(label),
                description=str(text),
                state=state,
                reached_at=reached.get(key) if state != "upcoming" else None,
            )
        )
    return steps
