"""The email channel's tables: addresses we answer for, every message in and out, mailboxes,
templates and the channel's settings (docs/email.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core import clock
from kefu.core.ids import ObjectIdModel

from .choices import (
    InboundState,
    MailboxAuth,
    MailboxSecurity,
    OutboundKind,
    OutboundState,
    TemplateKey,
)
from .fields import EncryptedTextField


class SupportAddress(ObjectIdModel):
    """An address Kefu answers for (support@acme.cn). Mail to it becomes tickets in ``group``.

    Mail to ``local+anything@domain`` counts as mail to ``local@domain`` (per-ticket reply
    addresses use it). The ``default`` one sends mail for tickets that did not come by email.
    """

    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=255, blank=True)
    group = models.ForeignKey(
        "accounts.Group",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("group"),
    )
    default = models.BooleanField(_("default"), default=False)
    # The last forwarding check (``PUT recipient_addresses/{id}/verify``): "" never checked,
    # else waiting / verified / failed; the token is what the check email carries.
    forwarding_status = models.CharField(max_length=10, blank=True, default="")
    forwarding_token = models.CharField(max_length=64, blank=True, default="")
    forwarding_checked_at = models.DateTimeField(null=True, blank=True)
    forwarding_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("support address")
        verbose_name_plural = _("support addresses")
        ordering = ["-default", "email"]
        constraints = [
            models.UniqueConstraint(
                fields=["default"],
                condition=models.Q(default=True),
                name="one_default_support_address",
            )
        ]

    def __str__(self) -> str:
        return self.email


class Mailbox(ObjectIdModel):
    """An IMAP mailbox Kefu fetches from (restart-safe: UIDVALIDITY + last UID)."""

    name = models.CharField(_("name"), max_length=255)
    support_address = models.ForeignKey(
        SupportAddress, on_delete=models.CASCADE, related_name="mailboxes"
    )
    host = models.CharField(_("host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=MailboxSecurity.choices, default=MailboxSecurity.TLS
    )
    username = models.CharField(_("user name"), max_length=255)
    auth = models.CharField(
        _("sign-in"), max_length=10, choices=MailboxAuth.choices, default=MailboxAuth.PASSWORD
    )
    # A password or an app password (QQ Mail, 163, Aliyun: the "authorization code").
    # Secrets are encrypted at rest (fields.py).
    password = EncryptedTextField(_("password"), blank=True)
    oauth_token_endpoint = models.URLField(_("OAuth token endpoint"), blank=True)
    oauth_client_id = models.CharField(_("OAuth client id"), max_length=500, blank=True)
    oauth_client_secret = EncryptedTextField(_("OAuth client secret"), blank=True)
    oauth_refresh_token = EncryptedTextField(_("OAuth refresh token"), blank=True)
    oauth_access_token = EncryptedTextField(blank=True)
    oauth_expires_at = models.DateTimeField(null=True, blank=True)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    move_to = models.CharField(
        _("move fetched mail to"),
        max_length=255,
        blank=True,
        help_text=_("Empty: mark fetched mail as read and leave it in the folder."),
    )
    active = models.BooleanField(_("active"), default=True)
    poll_seconds = models.PositiveIntegerField(_("fetch every (seconds)"), default=60)
    next_poll_at = models.DateTimeField(default=clock.now)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.username}@{self.host})"


class InboundMessage(ObjectIdModel):
    """One message as it arrived, raw bytes first; processing fills in the rest.

    The raw bytes live in the database (``raw``), written in the same transaction as the row:
    when SMTP answers 250 or IMAP marks the message, the bytes are committed — no file that a
    crash could separate from its row. ``(recipient, message_key)`` is unique, so a second
    delivery of the same Message-ID to the same address can never be stored twice.
    """

    recipient = models.CharField(max_length=255)
    message_id = models.TextField(blank=True)
    # sha256 of the Message-ID (or of the raw bytes when there is none): indexable, fixed size.
    message_key = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    raw = models.BinaryField()
    envelope_from = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=10, default="smtp")
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    state = models.CharField(
        max_length=20, choices=InboundState.choices, default=InboundState.RECEIVED
    )
    # Filled while processing, for lists and the rate limit.
    sender = models.CharField(max_length=255, blank=True, db_index=True)
    subject = models.CharField(max_length=500, blank=True)
    automated = models.CharField(max_length=100, blank=True)
    suspension_cause = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.ForeignKey(
        "tickets.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(default=clock.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "message_key"], name="inbound_message_once_per_recipient"
            )
        ]
        indexes = [
            models.Index(fields=["message_key"], name="inbound_message_key"),
            models.Index(fields=["state", "received_at"], name="inbound_state_received"),
            models.Index(fields=["sender", "received_at"], name="inbound_sender_received"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id or self.sha256[:12]} → {self.recipient} ({self.state})"


class OutboundMessage(ObjectIdModel):
    """One email Kefu sends (a reply, a notification, an acknowledgement), with its state."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="outbound_emails"
    )
    comment = models.ForeignKey(
        "tickets.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=OutboundKind.choices)
    reason = models.CharField(max_length=255, blank=True)
    message_id = models.CharField(max_length=255, unique=True)
    message_key = models.CharField(max_length=64, db_index=True)
    from_address = models.CharField(max_length=255)
    recipients = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=500)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=20, choices=OutboundState.choices, default=OutboundState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=clock.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbound_state_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.ticket_id} {self.message_id} ({self.state})"


class EmailTemplate(ObjectIdModel):
    """An admin-editable email text, per purpose and language, with {{placeholders}}."""

    key = models.CharField(_("purpose"), max_length=40, choices=TemplateKey.choices)
    locale = models.CharField(_("language"), max_length=20)
    subject = models.CharField(_("subject"), max_length=500)
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ["key", "locale"]
        constraints = [
            models.UniqueConstraint(fields=["key", "locale"], name="email_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.locale})"


class EmailSettings(models.Model):
    """The email channel's settings an admin edits (one row, id 1)."""

    acknowledge_new_tickets = models.BooleanField(
        _("acknowledge new emailed tickets"), default=True
    )
    expected_response = models.CharField(
        _("when customers can expect an answer"),
        max_length=500,
        default="",
        blank=True,
        help_text=_("Shown in the acknowledgement, e.g. “within one working day”."),
    )
    sender_rate_limit = models.PositiveIntegerField(
        _("messages per sender per hour before suspending"), default=20
    )
    default_locale = models.CharField(_("default language"), max_length=20, default="zh-hans")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("email settings")
        verbose_name_plural = _("email settings")

    def __str__(self) -> str:
        return "Email settings"

    @classmethod
    def load(cls) -> "EmailSettings":
        """The saved settings, or the defaults (unsaved) until an admin first saves them:
        reading never writes (``update_email_settings`` creates the row)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
