from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views import defaults

from lakegate_server.api import api
from lakegate_server.health import healthz
from lakegate_server.http_errors import error_json
from lakegate_server.metrics import metrics_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("lakegate_server.dashboard.urls")),
]

# Paths that answer JSON: a URL that matches no route there is a 404 in the API's error shape,
# not the dashboard's HTML page (unknown routes, a trailing slash too many, a non-numeric id).
_JSON_PREFIXES = ("/api/", "/healthz", "/metrics")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(_JSON_PREFIXES):
        message = f"no route {request.method} {request.path}; see /api/v1/docs for the API's routes"
        body = error_json("not_found", message, {"path": request.path})
        return HttpResponse(body, status=404, content_type="application/json")
    return defaults.page_not_found(request, exception)


handler404: Any = not_found
