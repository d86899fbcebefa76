from django.urls import path

from . import views

app_name = "web_admin"
urlpatterns = [
    path("", views.index, name="index"),
    path("agents/", views.agents, name="agents"),
    path("agents/invite/", views.invite_agent, name="invite_agent"),
    path("agents/<int:user_id>/", views.edit_agent, name="edit_agent"),
    path("groups/", views.groups, name="groups"),
    path("groups/new/", views.edit_group, name="new_group"),
    path("groups/<int:group_id>/", views.edit_group, name="edit_group"),
    path("groups/<int:group_id>/delete/", views.delete_group, name="delete_group"),
    path("fields/", views.fields, name="fields"),
    path("fields/new/", views.edit_field, name="new_field"),
    path("fields/<int:field_id>/", views.edit_field, name="edit_field"),
    path("fields/<int:field_id>/delete/", views.delete_field, name="delete_field"),
    path("views/", views.views, name="views"),
    path("views/new/", views.edit_view, name="new_view"),
    path("views/<int:view_id>/", views.edit_view, name="edit_view"),
    path("views/<int:view_id>/delete/", views.delete_view, name="delete_view"),
    path("macros/", views.macros, name="macros"),
    path("macros/new/", views.edit_macro, name="new_macro"),
    path("macros/<int:macro_id>/", views.edit_macro, name="edit_macro"),
    path("macros/<int:macro_id>/delete/", views.delete_macro, name="delete_macro"),
    path("tags/", views.tags, name="tags"),
    path("tags/<str:name>/rename/", views.rename_tag, name="rename_tag"),
    path("tags/<str:name>/delete/", views.delete_tag, name="delete_tag"),
    path("settings/", views.settings_page, name="settings"),
    path("branding/", views.branding, name="branding"),
]
