"""Satisfaction ratings — storage only; offering the survey is the survey flow's job."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import clock
from kefu.tickets.actions import Event, record_events
from kefu.tickets.choices import Channel, EventType, Status
from kefu.tickets.models import Ticket

from .choices import RATED_SCORES
from .models import SatisfactionRating

RATABLE_STATUSES = (Status.SOLVED, Status.CLOSED)
MAX_COMMENT_LENGTH = 10_000


@transaction.atomic
def rate_ticket(
    *,
    ticket: Ticket,
    actor: User,
    score: str,
    comment: str = "",
    reason: str = "",
    via_channel: str = Channel.WEB,
) -> SatisfactionRating:
    """The requester rates a solved or closed ticket good or bad, as in Zendesk.

    One rating per ticket: rating again changes it. The ticket's history gets a
    ``SatisfactionRating`` event and its ``updated_at`` moves (so incremental exports pick
    it up); its status and fields do not change, so closed tickets can be rated too.
    Ticket hooks do not run. Raises ``PermissionDenied`` for anyone but the requester and
    ``ValidationError`` naming the field for a bad score, comment or reason, or a ticket
    that is not solved yet. Holds the ticket's row lock.
    """
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if actor.pk != ticket.requester_id or not actor.is_active or actor.suspended:
        raise PermissionDenied(_("Only the requester can rate this ticket."))
    if score not in RATED_SCORES:
        raise ValidationError({"score": [_("The score is good or bad.")]})
    comment = (comment or "").strip()
    reason = (reason or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise ValidationError(
            {"comment": [_("The comment is too long (at most %(max)s characters).")
                         % {"max": MAX_COMMENT_LENGTH}]}
        )  # fmt: skip
    if len(reason) > 255:
        raise ValidationError({"reason": [_("The reason is too long (at most 255 characters).")]})
    if ticket.deleted_at is not None or ticket.status not in RATABLE_STATUSES:
        raise ValidationError({"ticket_id": [_("Only solved or closed tickets can be rated.")]})

    now = clock.now()
    rating = SatisfactionRating.objects.filter(ticket=ticket).first()
    previous = rating.score if rating is not None else None
    if rating is None:
        rating = SatisfactionRating(ticket=ticket, requester=actor, created_at=now)
    rating.assignee_id = ticket.assignee_id
    rating.group_id = ticket.group_id
    rating.score = score
    rating.comment = comment
    rating.reason = reason
    rating.updated_at = now
    rating.save()

    record_events(
        ticket,
        [Event(
            EventType.SATISFACTION_RATING,
            field_name="satisfaction_score",
            value={"score": score, "comment": comment, "reason": reason,
                   "assignee_id": ticket.assignee_id},
            previous_value=previous,
        )],
        actor=actor, via_channel=via_channel, at=now, touch=True,
    )  # fmt: skip
    return rating
