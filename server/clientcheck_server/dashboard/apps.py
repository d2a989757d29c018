from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The pages: the overview, hosts, rules, and the admin's actions (secrets, tokens, users, settings)."""

    name = "clientcheck_server.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
