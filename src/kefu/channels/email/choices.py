from django.db import models
from django.utils.translation import gettext_lazy as _


class InboundState(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    QUARANTINED = "quarantined", _("Quarantined")
    SUSPENDED = "suspended", _("Suspended")
    DELETED = "deleted", _("Deleted")


class OutboundState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Retrying")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Not sent")


class OutboundKind(models.TextChoices):
    REPLY = "reply", _("Reply")
    NOTIFICATION = "notification", _("Notification")
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")


class MailboxSecurity(models.TextChoices):
    TLS = "tls", _("TLS (port 993)")
    STARTTLS = "starttls", _("STARTTLS (port 143)")
    NONE = "none", _("None (testing only)")


class MailboxAuth(models.TextChoices):
    PASSWORD = "password", _("Password or app password")
    XOAUTH2 = "xoauth2", _("OAuth 2 (XOAUTH2)")


class TemplateKey(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement of a new request")
    NOTIFICATION = "notification", _("Notification")


class SuspensionCause(models.TextChoices):
    RATE_LIMIT = "rate_limit", _("Too many messages from this sender")
    FROM_SUPPORT_ADDRESS = "own_address", _("Sent from one of our own support addresses")
