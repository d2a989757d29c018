from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Telling admins when the fleet gets worse: digests by webhook and e-mail, made by housekeeping."""

    name = "clientcheck_server.alerts"
    label = "alerts"
    verbose_name = "Alerts"
