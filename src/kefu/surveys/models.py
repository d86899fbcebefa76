from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core import clock
from kefu.core.ids import ObjectIdModel

from .choices import Score


class SatisfactionRating(ObjectIdModel):
    """A requester's verdict on a solved ticket (CSAT). One per ticket; rating again updates it.

    ``assignee`` and ``group`` are who had the ticket when it was rated, so reports keep
    crediting them after the ticket moves on.
    """

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="satisfaction_rating"
    )
    requester = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="satisfaction_ratings"
    )
    assignee = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    group = models.ForeignKey(
        "accounts.Group", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.CharField(_("score"), max_length=20, choices=Score.choices)
    comment = models.TextField(_("comment"), blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(default=clock.now, db_index=True)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        indexes = [models.Index(fields=["score", "created_at"], name="rating_score_created")]

    def __str__(self) -> str:
        return f"{self.score} on #{self.ticket_id}"
