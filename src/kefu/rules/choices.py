from django.db import models
from django.utils.translation import gettext_lazy as _


class RoutingMode(models.TextChoices):
    MANUAL = "manual", _("Manual")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    SKILLS = "skills", _("Skills-based")


class Availability(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned to you")
    MENTIONED = "mentioned", _("Mentioned in a note")
    FOLLOWER_UPDATE = "follower_update", _("Update on a ticket you follow")
    CHILDREN_DONE = "children_done", _("All child tasks are done")
    RULE = "rule", _("Message from a business rule")


class HttpMethod(models.TextChoices):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"


class RequestFormat(models.TextChoices):
    JSON = "json", "JSON"
    FORM = "form_encoded", _("Form encoded")
    XML = "xml", "XML"


class AuthenticationType(models.TextChoices):
    NONE = "none", _("None")
    BASIC = "basic_auth", _("Basic authentication")
    BEARER = "bearer_token", _("Bearer token")


class WebhookStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
