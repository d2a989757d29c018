from __future__ import annotations

from django.urls import include, path

from clientcheck_server.core import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("api/v1/", include("clientcheck_server.enrollment.api.urls")),
    path("api/v1/", include("clientcheck_server.ingest.api.urls")),
    path("api/v1/", include("clientcheck_server.fleet.api.urls")),
    path("", include("clientcheck_server.dashboard.urls")),
]

handler404 = "clientcheck_server.dashboard.views.errors.not_found"
handler403 = "clientcheck_server.dashboard.views.errors.forbidden"
