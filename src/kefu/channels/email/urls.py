from django.urls import path

from . import views

app_name = "email"
urlpatterns = [
    path(
        "email/comments/<int:comment_id>/original/",
        views.original_message,
        name="original",
    ),
    path("agent/admin/email/", views.admin_email, name="admin"),
    path("agent/admin/email/<int:message_id>/retry/", views.admin_retry, name="admin_retry"),
    path("agent/admin/email/<int:message_id>/recover/", views.admin_recover, name="admin_recover"),
    path("agent/admin/email/<int:message_id>/delete/", views.admin_delete, name="admin_delete"),
    path(
        "email/comments/<int:comment_id>/original.eml",
        views.original_source,
        name="original_source",
    ),
]
