"""Branding for every page: the company name, logo and primary colour an admin chose."""

from django.http import HttpRequest
from django.urls import reverse

from kefu.accounts.models import DEFAULT_PRIMARY_COLOR, AccountSettings


def branding(request: HttpRequest) -> dict[str, object]:
    """Overrides the shell's ``brand_name`` when the admin set a company name; adds
    ``brand_logo_url`` and ``brand_color`` (None when it is the default colour).

    One read-only query per page (the settings row is created by the first write, never
    here), remembered on the request for HTMX partials rendered in the same request."""
    cached = getattr(request, "_kefu_branding", None)
    if cached is not None:
        return cached
    row = (
        AccountSettings.objects.filter(pk=1)
        .values_list("company_name", "logo", "primary_color")
        .first()
    )
    company, logo, color = row or ("", "", DEFAULT_PRIMARY_COLOR)
    context: dict[str, object] = {
        "brand_logo_url": reverse("accounts:logo") if logo else None,
        "brand_color": color if color != DEFAULT_PRIMARY_COLOR else None,
    }
    if company:
        context["brand_name"] = company
    request._kefu_branding = context  # type: ignore[attr-defined]
    return context
