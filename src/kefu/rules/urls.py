from django.urls import path

from . import views

app_name = "rules"

urlpatterns = [
    path("triggers/", views.triggers, name="triggers"),
    path("triggers/new/", views.edit_trigger, name="new_trigger"),
    path("triggers/<int:trigger_id>/", views.edit_trigger, name="edit_trigger"),
    path(
        "triggers/<int:trigger_id>/move/<str:direction>/", views.move_trigger, name="move_trigger"
    ),
    path("triggers/<int:trigger_id>/delete/", views.delete_trigger, name="delete_trigger"),
]
