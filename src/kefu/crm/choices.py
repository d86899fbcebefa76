from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentityType(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone_number", _("Phone number")
    # Channels add theirs (chat visitor ids, WeChat openids, ...) as they arrive.
