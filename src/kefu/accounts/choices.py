from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    END_USER = "end-user", _("End user")
    AGENT = "agent", _("Agent")
    ADMIN = "admin", _("Admin")
    # Colleagues from other departments: see tickets, add internal notes only (docs/rules.md).
    LIGHT_AGENT = "light_agent", _("Light agent")


STAFF_ROLES = (Role.AGENT, Role.ADMIN, Role.LIGHT_AGENT)
