from django.apps import AppConfig


class WebAdminConfig(AppConfig):
    """Admin settings pages (/agent/admin/): templates, sections registry, template tags."""

    name = "kefu.web.admin"
    label = "web_admin"
    default_auto_field = "django.db.models.BigAutoField"
