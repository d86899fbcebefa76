"""Django admin for inspection. Changes to tickets go through the agent workspace and API,
which call the actions; here tickets are read-only so the admin is not a second write path."""

from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import CustomStatus, Macro, Ticket, TicketField, TicketFieldOption, View


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "subject",
        "status",
        "priority",
        "requester",
        "assignee",
        "group",
        "updated_at",
    ]
    list_filter = ["status", "priority", "via_channel"]
    search_fields = ["id", "subject", "external_id"]
    list_select_related = ["requester", "assignee", "group"]
    show_full_result_count = False


class OptionInline(ReadOnlyInline):
    model = TicketFieldOption
    extra = 0


@admin.register(TicketField)
class TicketFieldAdmin(ReadOnlyAdmin):
    list_display = ["title", "type", "active", "required", "visible_in_portal", "position"]
    inlines = [OptionInline]


@admin.register(CustomStatus)
class CustomStatusAdmin(ReadOnlyAdmin):
    list_display = ["agent_label", "status_category", "end_user_label", "active", "default"]


@admin.register(View)
class ViewAdmin(ReadOnlyAdmin):
    list_display = ["title", "restriction", "active", "position"]


@admin.register(Macro)
class MacroAdmin(ReadOnlyAdmin):
    list_display = ["title", "restriction", "active", "usage_count"]
