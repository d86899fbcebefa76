from django.contrib import admin
from django.urls import include, path

from kefu.api.site import api
from kefu.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v2/", api.urls),
    path("", include("kefu.accounts.urls")),
    path("portal/", include("kefu.channels.portal.urls")),
    path("agent/admin/", include("kefu.web.admin.urls")),
    path("agent/admin/rules/", include("kefu.rules.urls")),
    path("", include("kefu.tickets.urls")),
    path("", include("kefu.channels.email.urls")),
    path("", include("kefu.web.urls")),
    path("", include("kefu.crm.urls")),
    path("", include("kefu.sla.urls")),
]
