"""The emails people get about their account: confirm a sign-up, an invitation, "you already
have an account". Rendered in the recipient's language, sent after the transaction commits
by the ``send_email`` task. (Password-reset emails are Django's, sent the same way: see
``views.PasswordResetForm``.)

Templates: ``accounts/email/<kind>_subject.txt`` and ``accounts/email/<kind>.txt``.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import AccountSettings, User


def absolute(path: str) -> str:
    return f"{settings.BASE_URL}{path}"


def set_password_url(user: User) -> str:
    """A one-time link to choose a password (Django's reset link: it expires with
    PASSWORD_RESET_TIMEOUT and stops working once the password changes)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return absolute(reverse("accounts:password_reset_confirm", args=[uid, token]))


def _links(kind: str, user: User) -> dict[str, str]:
    from .actions import registration_token

    if kind == "verify_email":
        return {"link": absolute(reverse("accounts:verify", args=[registration_token(user)]))}
    if kind == "invitation":
        return {"link": set_password_url(user), "login_url": absolute(reverse("accounts:login"))}
    return {"link": absolute(reverse("accounts:password_reset"))}


def send_templated_email(
    template_prefix: str, *, to: str, context: dict[str, Any], language: str | None
) -> None:
    """Render ``<prefix>_subject.txt`` and ``<prefix>.txt`` in ``language`` and send them
    once the current transaction commits."""
    from .tasks import send_email

    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{template_prefix}_subject.txt", context).split())
        body = render_to_string(f"{template_prefix}.txt", context)
    transaction.on_commit(lambda: send_email.enqueue(to=[to], subject=subject, body=body))


def send_account_context() -> dict[str, Any]:
    return {"company": AccountSettings.load().company_name or "Kefu"}


def send_account_email(kind: str, *, user: User, to: str, **extra: Any) -> None:
    context = {"user": user, **send_account_context(), **_links(kind, user), **extra}
    language = user.locale or translation.get_language()
    send_templated_email(f"accounts/email/{kind}", to=to, context=context, language=language)
