from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The customer portal (help center): requests, replies, the knowledge base's place."""

    name = "kefu.channels.portal"
    label = "portal"
    default_auto_field = "django.db.models.BigAutoField"
