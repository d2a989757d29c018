from __future__ import annotations

from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    """Enrollment secrets (shared, revocable, each may name a group) and the per-host keys they buy."""

    name = "clientcheck_server.enrollment"
    label = "enrollment"
    verbose_name = "Enrollment"
