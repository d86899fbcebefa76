from django.contrib import admin

from kefu.core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Identity, Organization, OrganizationMembership


class MembershipInline(ReadOnlyInline):
    model = OrganizationMembership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ["name", "shared_tickets", "group", "created_at"]
    search_fields = ["name", "external_id"]
    inlines = [MembershipInline]


@admin.register(Identity)
class IdentityAdmin(ReadOnlyAdmin):
    list_display = ["value", "type", "user", "primary", "verified"]
    list_filter = ["type"]
    search_fields = ["value"]
    raw_id_fields = ["user"]
