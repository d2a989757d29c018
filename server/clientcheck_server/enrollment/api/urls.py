from __future__ import annotations

from django.urls import path

from clientcheck_server.enrollment.api import views

urlpatterns = [path("enroll", views.enroll_view, name="api-enroll")]
