from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every other app uses: database locks, rate counters, credentials, CSV, JSON answers."""

    name = "clientcheck_server.core"
    label = "core"
    verbose_name = "Core"
