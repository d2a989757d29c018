from __future__ import annotations

from django.apps import AppConfig


class FleetConfig(AppConfig):
    """Hosts, their latest reports, the history of each (host, rule) state, the daily rollup, retention."""

    name = "clientcheck_server.fleet"
    label = "fleet"
    verbose_name = "Fleet"
