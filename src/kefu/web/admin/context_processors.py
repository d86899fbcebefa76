"""Branding for every page: the company name, logo and primary colour an admin chose."""

from django.http import HttpRequest
from django.urls import reverse

from kefu.accounts.models import DEFAULT_PRIMARY_COLOR, AccountSettings


def branding(request: HttpRequest) -> dict[str, object]:
    """Overrides the shell's ``brand_name`` when the admin set a company name; adds
    ``brand_logo_url`` and ``brand_color`` (None when it is the default colour)."""
    settings = AccountSettings.load()
    context: dict[str, object] = {
        "brand_logo_url": reverse("accounts:logo") if settings.logo else None,
        "brand_color": (
            settings.primary_color if settings.primary_color != DEFAULT_PRIMARY_COLOR else None
        ),
    }
    if settings.company_name:
        context["brand_name"] = settings.company_name
    return context
