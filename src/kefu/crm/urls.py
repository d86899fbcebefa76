from django.urls import path

from . import views

app_name = "crm"
urlpatterns = [
    path("agent/users/<int:user_id>/", views.user_page, name="user"),
    path(
        "agent/organizations/<int:organization_id>/", views.organization_page, name="organization"
    ),
]
