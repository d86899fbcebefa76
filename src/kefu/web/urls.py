from django.urls import path

from . import views

app_name = "web"
urlpatterns = [
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("agent/", views.agent_home, name="agent_home"),
    path("agent/search/", views.search, name="search"),
]
