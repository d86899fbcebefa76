from django.contrib import admin

from .models import SatisfactionRating


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(admin.ModelAdmin):
    list_display = ("ticket", "score", "requester", "assignee", "created_at")
    list_filter = ("score",)
    raw_id_fields = ("ticket", "requester", "assignee", "group")
