"""Mailboxes, templates and the email settings: the actions admins' pages and the CLI call."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .choices import MailboxAuth, MailboxSecurity, TemplateKey
from .models import EmailSettings, EmailTemplate, Mailbox, SupportAddress
from .rendering import check_template

MAILBOX_FIELDS = {
    "name", "host", "port", "security", "username", "auth", "password", "oauth_token_endpoint",
    "oauth_client_id", "oauth_client_secret", "oauth_refresh_token", "folder", "move_to",
    "active", "poll_seconds", "support_address",
}  # fmt: skip


def _check_mailbox(mailbox: Mailbox) -> None:
    errors: dict[str, list[str]] = {}
    if not mailbox.host.strip():
        errors["host"] = [_("This field is required.")]
    if not mailbox.username.strip():
        errors["username"] = [_("This field is required.")]
    if mailbox.security not in MailboxSecurity.values:
        errors["security"] = [_("Choose TLS, STARTTLS or none.")]
    if mailbox.auth not in MailboxAuth.values:
        errors["auth"] = [_("Choose a password or OAuth 2.")]
    if not 1 <= mailbox.port <= 65535:
        errors["port"] = [_("A port is between 1 and 65535.")]
    if mailbox.auth == MailboxAuth.XOAUTH2 and not (
        mailbox.oauth_token_endpoint and mailbox.oauth_refresh_token
    ):
        errors["oauth_refresh_token"] = [_("OAuth 2 needs a token endpoint and a refresh token.")]
    if mailbox.auth == MailboxAuth.PASSWORD and not mailbox.password:
        errors["password"] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)


def create_mailbox(*, support_address: SupportAddress, **fields: object) -> Mailbox:
    """An IMAP mailbox to fetch for ``support_address`` (fields as on ``Mailbox``)."""
    unknown = set(fields) - MAILBOX_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    mailbox = Mailbox(support_address=support_address, **fields)
    if not mailbox.name:
        mailbox.name = f"{mailbox.username}@{mailbox.host}"
    _check_mailbox(mailbox)
    mailbox.save()
    return mailbox


@transaction.atomic
def update_mailbox(mailbox: Mailbox, **changes: object) -> Mailbox:
    """Change a mailbox; a new host, user or folder starts its UID bookkeeping again."""
    unknown = set(changes) - MAILBOX_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    restart = any(
        name in changes and changes[name] != getattr(mailbox, name)
        for name in ("host", "username", "folder")
    )
    for name, value in changes.items():
        setattr(mailbox, name, value)
    _check_mailbox(mailbox)
    if restart:
        mailbox.uidvalidity, mailbox.last_uid = None, 0
    mailbox.save()
    return mailbox


def delete_mailbox(mailbox: Mailbox) -> None:
    """Stop fetching a mailbox (its messages stay)."""
    mailbox.delete()


def update_email_template(*, key: str, locale: str, subject: str, body: str) -> EmailTemplate:
    """Set the text of one template; refused unless it is plain text with placeholders."""
    if key not in TemplateKey.values:
        raise ValidationError({"key": [_("Unknown template.")]})
    check_template(subject, field="subject")
    check_template(body, field="body")
    template, _created = EmailTemplate.objects.update_or_create(
        key=key, locale=locale, defaults={"subject": subject, "body": body}
    )
    return template


SETTINGS_FIELDS = {
    "acknowledge_new_tickets", "expected_response", "sender_rate_limit", "default_locale",
}  # fmt: skip


def update_email_settings(**changes: object) -> EmailSettings:
    """Change the email channel's settings (keyword per field)."""
    unknown = set(changes) - SETTINGS_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    if "default_locale" in changes and changes["default_locale"] not in ("zh-hans", "en"):
        raise ValidationError({"default_locale": [_("Choose zh-hans or en.")]})
    settings = EmailSettings.load()
    for name, value in changes.items():
        setattr(settings, name, value)
    settings.full_clean()
    settings.save()
    return settings


def check_mailbox_connection(mailbox: Mailbox) -> str:
    """Sign in to the mailbox's server and open its folder; "" when that works, else the
    problem in one sentence. Changes nothing (the admin page's "Test connection")."""
    from .imap import MailboxError, check_connection

    try:
        check_connection(mailbox)
    except MailboxError as exc:
        return str(exc)
    return ""
