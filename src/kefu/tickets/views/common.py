"""Helpers the ticket screens share: the sidebar of views, safe redirects, error placement."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from kefu.accounts.models import User

from ..access import visible_views
from ..forms import ERROR_FIELDS
from ..models import View


def sidebar_views(user: User) -> QuerySet[View]:
    """The views in the agent's sidebar, in the admin's order (counts load separately)."""
    return visible_views(user).filter(active=True).order_by("position", "title", "id")


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def form_field_for_error(key: str, form: forms.Form) -> str | None:
    """Where an action's error belongs in the form (``custom_fields_7`` -> ``cf_7``)."""
    if key.startswith("custom_fields_"):
        key = "cf_" + key.removeprefix("custom_fields_")
    key = ERROR_FIELDS.get(key, key)
    return key if key in form.fields else None


def add_action_errors(form: forms.Form, error: ValidationError) -> None:
    """Put an action's ValidationError next to the fields it names (the rest on top)."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for key, messages in error.message_dict.items():
        target = form_field_for_error(key, form)
        for message in messages:
            form.add_error(target, message)


def error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    args: Any = getattr(error, "args", ())
    return str(args[0]) if args else str(error)
