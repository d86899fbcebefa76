"""Django admin for inspection (read-only: changes go through the actions)."""

from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin

from .models import (
    EmailSettings,
    EmailTemplate,
    InboundMessage,
    Mailbox,
    OutboundMessage,
    SupportAddress,
)


@admin.register(SupportAddress)
class SupportAddressAdmin(ReadOnlyAdmin):
    list_display = ["email", "name", "group", "default"]


@admin.register(Mailbox)
class MailboxAdmin(ReadOnlyAdmin):
    list_display = ["name", "host", "username", "active", "last_success_at", "last_error"]
    exclude = ["password", "oauth_client_secret", "oauth_refresh_token", "oauth_access_token"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "received_at", "recipient", "sender", "subject", "state", "ticket"]
    list_filter = ["state", "source"]
    search_fields = ["message_id", "sender", "subject"]
    exclude = ["raw"]
    show_full_result_count = False


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "kind", "ticket", "subject", "state", "attempts"]
    list_filter = ["state", "kind"]
    show_full_result_count = False


admin.site.register(EmailTemplate, ReadOnlyAdmin)
admin.site.register(EmailSettings, ReadOnlyAdmin)
