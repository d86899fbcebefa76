from django.urls import path

from . import views

app_name = "tickets"
urlpatterns = [
    path(
        "attachments/<int:attachment_id>/<path:file_name>",
        views.attachment_download,
        name="attachment_download",
    ),
    path("attachments/<int:attachment_id>", views.attachment_download),
]
