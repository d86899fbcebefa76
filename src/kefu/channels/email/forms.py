"""Forms of the email admin pages. They check the input's shape; the rules live in the email
actions, whose ValidationErrors the views put next to the field they name."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Group
from kefu.web.admin.forms import AdminForm

from .choices import MailboxAuth, MailboxSecurity
from .models import SupportAddress

LANGUAGE_CHOICES = [("zh-hans", "简体中文"), ("en", "English")]
SECRET_FIELDS = ("password", "oauth_client_secret", "oauth_refresh_token")


class EmailAdminForm(AdminForm):
    """The admin settings' form base: action errors land next to their fields."""


class SupportAddressForm(EmailAdminForm):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    name = forms.CharField(
        label=_("Name"),
        max_length=255,
        required=False,
        help_text=_("Shown as the sender, e.g. “Acme Support”."),
    )
    group = forms.ModelChoiceField(
        label=_("Group for new tickets"),
        queryset=Group.objects.order_by("name"),
        required=False,
        empty_label=_("(the default group)"),
    )
    default = forms.BooleanField(
        label=_("Default address (sends mail for tickets that did not come by email)"),
        required=False,
    )


class MailboxForm(EmailAdminForm):
    name = forms.CharField(label=_("Name"), max_length=255, required=False)
    support_address = forms.ModelChoiceField(
        label=_("Support address"), queryset=SupportAddress.objects.order_by("email")
    )
    host = forms.CharField(label=_("IMAP server"), max_length=255)
    port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=993)
    security = forms.ChoiceField(
        label=_("Security"), choices=MailboxSecurity.choices, initial=MailboxSecurity.TLS
    )
    username = forms.CharField(label=_("User name"), max_length=255)
    auth = forms.ChoiceField(
        label=_("Sign-in"), choices=MailboxAuth.choices, initial=MailboxAuth.PASSWORD
    )
    password = forms.CharField(
        label=_("Password or app password"),
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the saved one."),
    )
    oauth_token_endpoint = forms.URLField(
        label=_("OAuth token endpoint"), required=False, assume_scheme="https"
    )
    oauth_client_id = forms.CharField(label=_("OAuth client id"), max_length=500, required=False)
    oauth_client_secret = forms.CharField(
        label=_("OAuth client secret"),
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the saved one."),
    )
    oauth_refresh_token = forms.CharField(
        label=_("OAuth refresh token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the saved one."),
    )
    folder = forms.CharField(label=_("Folder"), max_length=255, initial="INBOX")
    move_to = forms.CharField(
        label=_("Move fetched mail to"),
        max_length=255,
        required=False,
        help_text=_("Empty: mark fetched mail as read and leave it in the folder."),
    )
    poll_seconds = forms.IntegerField(
        label=_("Fetch every (seconds)"), min_value=10, max_value=86400, initial=60
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def changes(self) -> dict[str, Any]:
        """The cleaned fields for the action; empty secrets (and name) keep the saved value."""
        data = dict(self.cleaned_data)
        for name in (*SECRET_FIELDS, "name"):
            if not data.get(name):
                data.pop(name, None)
        return data


class EmailTemplateForm(EmailAdminForm):
    subject = forms.CharField(label=_("Subject"), max_length=500)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_(
            "Placeholders such as {{ ticket.id }}, {{ ticket.title }}, "
            "{{ ticket.requester.name }}, {{ ticket.url }}; no tags or filters."
        ),
    )


class EmailSettingsForm(EmailAdminForm):
    acknowledge_new_tickets = forms.BooleanField(
        label=_("Acknowledge new emailed tickets"), required=False
    )
    expected_response = forms.CharField(
        label=_("When customers can expect an answer"),
        max_length=500,
        required=False,
        help_text=_(
            "Shown in the acknowledgement when no SLA applies, e.g. “within one working day”."
        ),
    )
    sender_rate_limit = forms.IntegerField(
        label=_("Messages per sender per hour before suspending"), min_value=1, max_value=100000
    )
    default_locale = forms.ChoiceField(
        label=_("Default language of mail"), choices=LANGUAGE_CHOICES
    )
