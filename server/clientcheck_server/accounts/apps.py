from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users with a role (admin, viewer) and an optional scope of groups, API tokens, the audit log."""

    name = "clientcheck_server.accounts"
    label = "accounts"
    verbose_name = "Accounts"
