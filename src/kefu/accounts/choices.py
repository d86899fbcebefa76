from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    END_USER = "end-user", _("End user")
    AGENT = "agent", _("Agent")
    ADMIN = "admin", _("Admin")


STAFF_ROLES = (Role.AGENT, Role.ADMIN)
