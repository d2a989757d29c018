from __future__ import annotations

from django.urls import path

from clientcheck_server.ingest.api import views

urlpatterns = [path("reports", views.reports, name="api-reports")]
