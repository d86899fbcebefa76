from django.urls import path

from . import admin_views, views

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
    path("agent/admin/email/addresses/new/", admin_views.edit_address, name="new_address"),
    path(
        "agent/admin/email/addresses/<int:address_id>/",
        admin_views.edit_address,
        name="edit_address",
    ),
    path(
        "agent/admin/email/addresses/<int:address_id>/delete/",
        admin_views.delete_address,
        name="delete_address",
    ),
    path("agent/admin/email/mailboxes/new/", admin_views.edit_mailbox, name="new_mailbox"),
    path(
        "agent/admin/email/mailboxes/<int:mailbox_id>/",
        admin_views.edit_mailbox,
        name="edit_mailbox",
    ),
    path(
        "agent/admin/email/mailboxes/<int:mailbox_id>/delete/",
        admin_views.delete_mailbox,
        name="delete_mailbox",
    ),
    path(
        "agent/admin/email/mailboxes/<int:mailbox_id>/test/",
        admin_views.test_mailbox,
        name="test_mailbox",
    ),
    path(
        "agent/admin/email/templates/<str:key>/<str:locale>/",
        admin_views.edit_template,
        name="edit_template",
    ),
    path("agent/admin/email/settings/", admin_views.edit_settings, name="settings"),
    path(
        "email/comments/<int:comment_id>/original.eml",
        views.original_source,
        name="original_source",
    ),
]
