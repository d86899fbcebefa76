"""Deleting, restoring and closing tickets."""

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import AccountSettings, User
from kefu.core import clock

from .. import hooks
from ..choices import Channel, EventType, Status
from ..models import (
    Ticket,
)
from .audit import AuditWriter
from .data import TicketData
from .tickets import update_ticket

log = logging.getLogger(__name__)


def _set_deleted(ticket: Ticket, *, actor: User, deleted: bool) -> None:
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if (ticket.deleted_at is not None) == deleted:
        return  # already so: deleting twice or restoring a live ticket changes nothing
    now = clock.now()
    ticket.deleted_at = now if deleted else None
    ticket.updated_at = now
    ticket.save(update_fields=["deleted_at", "updated_at"])
    audit = AuditWriter(
        ticket, author=actor, via_channel=Channel.WEB, via_source={}, created_at=now
    )
    # The ticket's status stays; incremental exports show a deleted ticket as "deleted".
    before, after = (ticket.status, "deleted") if deleted else ("deleted", ticket.status)
    audit.other(
        EventType.DELETE if deleted else EventType.RESTORE,
        field_name="status",
        value=after,
        previous_value=before,
    )
    saved = audit.save()
    assert saved is not None
    hooks.run(
        hooks.TicketChange(
            ticket=ticket,
            kind="delete" if deleted else "restore",
            actor=actor,
            audit=saved,
            events=audit.events,
            via_channel=Channel.WEB,
            depth=hooks.current_depth(),
        )
    )


@transaction.atomic
def delete_ticket(ticket: Ticket, *, actor: User) -> None:
    """Move a ticket to deleted tickets (kept for history and incremental export)."""
    if not actor.is_full_agent:
        raise PermissionDenied(_("Only agents delete tickets."))
    _set_deleted(ticket, actor=actor, deleted=True)


@transaction.atomic
def restore_ticket(ticket: Ticket, *, actor: User) -> None:
    """Bring a deleted ticket back, as it was."""
    if not actor.is_full_agent:
        raise PermissionDenied(_("Only agents restore tickets."))
    _set_deleted(ticket, actor=actor, deleted=False)


def close_solved_tickets(*, now: dt.datetime | None = None, batch_size: int = 500) -> int:
    """Close tickets solved more than ``auto_close_days`` ago. Safe to run any number of times.

    Each ticket closes in its own transaction through ``update_ticket`` (audited, by the
    system), so a failure on one leaves the others closed.
    """
    now = now or clock.now()
    days = AccountSettings.load().auto_close_days
    cutoff = now - dt.timedelta(days=days)
    closed = 0
    failed: set[int] = set()
    while True:
        ids = list(
            Ticket.objects.filter(
                status=Status.SOLVED, solved_at__lte=cutoff, deleted_at__isnull=True
            )
            .exclude(pk__in=failed)
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return closed
        for ticket in Ticket.objects.filter(pk__in=ids):
            try:
                with clock.frozen_at(now):
                    update_ticket(
                        ticket,
                        actor=None,
                        data=TicketData(status=Status.CLOSED, via_channel=Channel.SYSTEM),
                    )
            except ValidationError:
                log.exception("could not close ticket #%s", ticket.pk)
                failed.add(ticket.pk)
            else:
                closed += 1
