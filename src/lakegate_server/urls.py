from django.contrib import admin
from django.urls import include, path

from lakegate_server.api import api
from lakegate_server.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("lakegate_server.dashboard.urls")),
]
