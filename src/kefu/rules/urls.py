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
    path("automations/", views.automations, name="automations"),
    path("automations/new/", views.edit_automation, name="new_automation"),
    path("automations/<int:automation_id>/", views.edit_automation, name="edit_automation"),
    path(
        "automations/<int:automation_id>/delete/",
        views.delete_automation,
        name="delete_automation",
    ),
    path("builder/row/", views.builder_row, name="builder_row"),
]
