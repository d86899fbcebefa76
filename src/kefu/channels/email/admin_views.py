"""The email admin pages' forms: support addresses, mailboxes, templates, settings.

Thin views over the email actions. A form that fails (in the form or in the action) is shown
again with the errors next to their fields, the values kept, and status 400."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.web.admin.decorators import admin_required

from . import actions, forms
from .choices import TemplateKey
from .models import EmailSettings, EmailTemplate, Mailbox, SupportAddress
from .rendering import LOCALES, render_html, render_text, sample_context, template_for

FORM_TEMPLATE = "web/admin/form.html"


def _form_page(
    request: HttpRequest,
    form: forms.EmailAdminForm,
    *,
    title: str,
    on_valid: Callable[[dict[str, Any]], Any],
    template: str = FORM_TEMPLATE,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            on_valid(form.cleaned_data)
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("email:admin")
    context = {"form": form, "title": title, "section": "email", "back_url": "email:admin"}
    return render(
        request, template, {**context, **(extra or {})}, status=400 if form.errors else 200
    )


def _delete(request: HttpRequest, delete: Callable[[], None]) -> HttpResponse:
    try:
        delete()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Deleted."))
    return redirect("email:admin")


# --- Support addresses -----------------------------------------------------------------------


@admin_required
def edit_address(request: HttpRequest, address_id: int | None = None) -> HttpResponse:
    address = get_object_or_404(SupportAddress, pk=address_id) if address_id else None
    initial = (
        {"email": address.email, "name": address.name, "group": address.group_id,
         "default": address.default}
        if address else {}
    )  # fmt: skip
    form = forms.SupportAddressForm(request.POST or None, initial=initial)

    def save(data: dict[str, Any]) -> None:
        if address is None:
            actions.create_support_address(**data)
        else:
            actions.update_support_address(address, **data)

    return _form_page(
        request, form, title=address.email if address else _("New support address"),
        on_valid=save, extra={"object": address, "delete_url": "email:delete_address"},
    )  # fmt: skip


@admin_required
@require_POST
def delete_address(request: HttpRequest, address_id: int) -> HttpResponse:
    address = get_object_or_404(SupportAddress, pk=address_id)
    return _delete(request, lambda: actions.delete_support_address(address))


# --- Mailboxes -------------------------------------------------------------------------------

MAILBOX_INITIAL = (
    "name", "host", "port", "security", "username", "auth", "oauth_token_endpoint",
    "oauth_client_id", "folder", "move_to", "poll_seconds", "active",
)  # fmt: skip


@admin_required
def edit_mailbox(request: HttpRequest, mailbox_id: int | None = None) -> HttpResponse:
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id) if mailbox_id else None
    initial: dict[str, Any] = {}
    if mailbox is not None:
        initial = {name: getattr(mailbox, name) for name in MAILBOX_INITIAL}
        initial["support_address"] = mailbox.support_address_id
    form = forms.MailboxForm(request.POST or None, initial=initial)

    def save(data: dict[str, Any]) -> None:
        changes = form.changes()
        if mailbox is None:
            actions.create_mailbox(**changes)
        else:
            actions.update_mailbox(mailbox, **changes)

    return _form_page(
        request, form, title=mailbox.name if mailbox else _("New IMAP mailbox"),
        on_valid=save, template="email/admin_mailbox_form.html",
        extra={"object": mailbox, "delete_url": "email:delete_mailbox"},
    )  # fmt: skip


@admin_required
@require_POST
def delete_mailbox(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id)
    return _delete(request, lambda: actions.delete_mailbox(mailbox))


@admin_required
@require_POST
def test_mailbox(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    """Sign in with the saved settings and open the folder; say what happened."""
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id)
    problem = actions.check_mailbox_connection(mailbox)
    if problem:
        messages.error(request, _("The connection failed: %(problem)s") % {"problem": problem})
    else:
        messages.success(request, _("Signed in and opened the folder %(folder)s.") % {
            "folder": mailbox.folder})  # fmt: skip
    return redirect("email:edit_mailbox", mailbox.pk)


# --- Templates -------------------------------------------------------------------------------


@admin_required
def edit_template(request: HttpRequest, key: str, locale: str) -> HttpResponse:
    """Edit one template; the "Preview" button renders it for a sample ticket without saving."""
    if key not in TemplateKey.values or locale not in LOCALES:
        raise Http404
    subject, body = template_for(key, locale)
    record = EmailTemplate.objects.filter(key=key, locale=locale).first()
    if record is not None:
        subject, body = record.subject, record.body
    form = forms.EmailTemplateForm(request.POST or None, initial={"subject": subject, "body": body})
    preview: dict[str, str] | None = None
    if request.method == "POST" and "preview" in request.POST:
        if form.is_valid():
            try:
                actions.check_template(form.cleaned_data["subject"], field="subject")
                actions.check_template(form.cleaned_data["body"], field="body")
            except ValidationError as exc:
                form.add_action_errors(exc)
            else:
                context = sample_context(locale)
                preview = {
                    "subject": render_text(form.cleaned_data["subject"], context),
                    "html": render_html(form.cleaned_data["body"], context),
                }
        status = 400 if form.errors else 200
        return render(
            request,
            "email/admin_template_form.html",
            {"form": form, "title": _template_title(key, locale), "section": "email",
             "back_url": "email:admin", "preview": preview},
            status=status,
        )  # fmt: skip
    return _form_page(
        request, form, title=_template_title(key, locale),
        template="email/admin_template_form.html",
        on_valid=lambda data: actions.update_email_template(key=key, locale=locale, **data),
        extra={"preview": None},
    )  # fmt: skip


def _template_title(key: str, locale: str) -> str:
    language = dict(forms.LANGUAGE_CHOICES)[locale]
    return f"{TemplateKey(key).label} · {language}"


# --- Settings --------------------------------------------------------------------------------


@admin_required
def edit_settings(request: HttpRequest) -> HttpResponse:
    current = EmailSettings.load()
    initial = {name: getattr(current, name) for name in forms.EmailSettingsForm.base_fields}
    form = forms.EmailSettingsForm(request.POST or None, initial=initial)
    return _form_page(
        request, form, title=_("Email settings"),
        on_valid=lambda data: actions.update_email_settings(**data),
    )  # fmt: skip
