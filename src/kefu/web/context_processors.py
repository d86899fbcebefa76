"""What every page of the shell needs: the product's name and the languages to switch to."""

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, object]:
    """``brand_name`` is the name in the top bar and titles; the admin settings' branding
    (company name, logo, colours) can replace it by returning its own values here."""
    return {
        "brand_name": "Kefu",
        "kefu_languages": settings.LANGUAGES,
    }
