"""Sign-in, sign-up and password forms (labels and errors in the person's language)."""

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from .models import User


class SignInForm(auth_forms.AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": _(
            "The email or password is not right. If you signed up recently, confirm your "
            "email address first."
        ),
        "inactive": _("This account is not active."),
    }


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form; the email goes out in the person's language, after commit, with a
    link on ``KEFU_BASE_URL``."""

    email = forms.EmailField(
        label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        from .emails import absolute, send_account_context, send_templated_email

        user: User = context["user"]
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        link = absolute(reverse("accounts:password_reset_confirm", args=[uid, context["token"]]))
        send_templated_email(
            "accounts/email/password_reset",
            to=to_email,
            context={**send_account_context(), "user": user, "link": link},
            language=user.locale or None,
        )


class SetPasswordForm(auth_forms.SetPasswordForm):
    pass


class RegistrationForm(forms.Form):
    name = forms.CharField(
        label=_("Your name"), max_length=255, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password_again = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("password")
            and cleaned.get("password_again")
            and cleaned["password"] != cleaned["password_again"]
        ):
            self.add_error("password_again", _("The two passwords are different."))
        return cleaned


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Put an action's ValidationError on the form: next to the field it names, or on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
