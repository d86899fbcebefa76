"""Tags across tickets: counts for the admin's tag list, rename and delete everywhere.

Renaming and deleting go through ``update_ticket`` ticket by ticket, so each change is in the
ticket's history and runs the hooks like any other edit. Closed tickets are read-only and keep
their tags (Zendesk does the same)."""

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext as _

from kefu.accounts.actions import normalize_tags
from kefu.accounts.models import User

from ..choices import Channel, Status
from ..models import Ticket, TicketTag
from .data import TicketData
from .tickets import update_ticket


def tag_counts(*, search: str = "", limit: int = 500) -> list[tuple[str, int]]:
    """(tag, number of live tickets with it), most used first."""
    rows = TicketTag.objects.filter(ticket__deleted_at__isnull=True)
    if search:
        rows = rows.filter(name__icontains=search.strip().lower())
    counted = rows.values("name").annotate(count=Count("id")).order_by("-count", "name")[:limit]
    return [(row["name"], row["count"]) for row in counted]


def _one_tag(value: str, field: str) -> str:
    tags = normalize_tags([value])
    if len(tags) != 1:
        raise ValidationError({field: [_("A tag is one word without spaces.")]})
    return tags[0]


def _retag(*, actor: User | None, old: str, add: list[str]) -> int:
    tickets = Ticket.objects.filter(tag_rows__name=old, deleted_at__isnull=True).exclude(
        status=Status.CLOSED
    )
    changed = 0
    for ticket in tickets.order_by("id").iterator():
        update_ticket(
            ticket,
            actor=actor,
            data=TicketData(add_tags=add, remove_tags=[old], via_channel=Channel.WEB),
        )
        changed += 1
    return changed


def rename_tag(*, actor: User | None, old: str, new: str) -> int:
    """Replace tag ``old`` with ``new`` on every ticket that is not closed; returns how many
    tickets changed. Raises ValidationError on ``new`` for an empty or multi-word name."""
    old = _one_tag(old, "tag")
    new = _one_tag(new, "new_name")
    if new == old:
        return 0
    return _retag(actor=actor, old=old, add=[new])


def delete_tag(*, actor: User | None, name: str) -> int:
    """Remove tag ``name`` from every ticket that is not closed; returns how many changed."""
    return _retag(actor=actor, old=_one_tag(name, "tag"), add=[])
