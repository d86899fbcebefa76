from django.db import models
from django.utils.translation import gettext_lazy as _


class Score(models.TextChoices):
    """Zendesk's satisfaction scores. Requesters give good or bad; the survey flow offers."""

    UNOFFERED = "unoffered", _("Not offered")
    OFFERED = "offered", _("Offered")
    GOOD = "good", _("Good")
    BAD = "bad", _("Bad")


RATED_SCORES = (Score.GOOD, Score.BAD)
