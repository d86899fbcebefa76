from django.urls import path

from . import views

app_name = "sla"

urlpatterns = [
    path("agent/sla/report/", views.report, name="report"),
    path("agent/admin/sla/schedules/", views.schedules, name="schedules"),
    path("agent/admin/sla/schedules/new/", views.edit_schedule, name="new_schedule"),
    path("agent/admin/sla/schedules/<int:schedule_id>/", views.edit_schedule,
         name="edit_schedule"),
    path("agent/admin/sla/schedules/<int:schedule_id>/delete/", views.delete_schedule,
         name="delete_schedule"),
    path("agent/admin/sla/schedules/<int:schedule_id>/holidays/", views.add_holiday,
         name="add_holiday"),
    path("agent/admin/sla/schedules/<int:schedule_id>/holidays/<int:holiday_id>/delete/",
         views.delete_holiday, name="delete_holiday"),
    path("agent/admin/sla/schedules/<int:schedule_id>/workdays/", views.add_workday,
         name="add_workday"),
    path("agent/admin/sla/schedules/<int:schedule_id>/workdays/<int:workday_id>/delete/",
         views.delete_workday, name="delete_workday"),
    path("agent/admin/sla/schedules/<int:schedule_id>/china/", views.load_china,
         name="load_china"),
    path("agent/admin/sla/schedules/<int:schedule_id>/ical/", views.import_ical,
         name="import_ical"),
    path("agent/admin/sla/policies/", views.policies, name="policies"),
    path("agent/admin/sla/policies/new/", views.edit_policy, name="new_policy"),
    path("agent/admin/sla/policies/<int:policy_id>/", views.edit_policy, name="edit_policy"),
    path("agent/admin/sla/policies/<int:policy_id>/move/<str:direction>/", views.move_policy,
         name="move_policy"),
    path("agent/admin/sla/policies/<int:policy_id>/delete/", views.delete_policy,
         name="delete_policy"),
    path("agent/admin/sla/reevaluation/", views.reevaluation_status,
         name="reevaluation_status"),
]  # fmt: skip
