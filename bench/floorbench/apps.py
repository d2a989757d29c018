from __future__ import annotations

from django.apps import AppConfig


class FloorBenchConfig(AppConfig):
    name = "floorbench"
    default_auto_field = "django.db.models.BigAutoField"
