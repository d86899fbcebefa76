from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.new_request, name="new_request"),
    path("requests/<int:ticket_id>/", views.request_detail, name="request"),
]
