from django.urls import path

from . import views

app_name = "email"
urlpatterns = [
    path(
        "email/comments/<int:comment_id>/original/",
        views.original_message,
        name="original",
    ),
    path(
        "email/comments/<int:comment_id>/original.eml",
        views.original_source,
        name="original_source",
    ),
]
