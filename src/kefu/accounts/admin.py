from django.contrib import admin
from django.contrib.auth.models import Group as AuthGroup

from kefu.core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import AccountSettings, ApiToken, Group, GroupMembership, User

# Kefu has its own groups (teams); Django's permission groups would only confuse admins.
admin.site.unregister(AuthGroup)
admin.site.site_header = "Kefu 客服"
admin.site.site_title = "Kefu"


class GroupMembershipInline(ReadOnlyInline):
    model = GroupMembership
    extra = 0
    raw_id_fields = ["group"]


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["name", "email", "role", "is_active", "suspended", "created_at"]
    list_filter = ["role", "is_active", "suspended"]
    search_fields = ["name", "email", "external_id", "phone"]
    exclude = ["password"]
    readonly_fields = ["last_login", "created_at", "updated_at"]
    inlines = [GroupMembershipInline]


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin):
    list_display = ["name", "default", "created_at"]
    search_fields = ["name"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["prefix", "user", "description", "active", "last_used_at", "created_at"]
    readonly_fields = ["digest", "prefix", "last_used_at", "created_at"]
    raw_id_fields = ["user"]


@admin.register(AccountSettings)
class AccountSettingsAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "auto_close_days", "max_attachment_mb"]
