"""Writing the audit log: one call per admin action, in the same transaction as the action (an action
that rolls back leaves no entry, and none happens unrecorded)."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.utils import timezone

from clientcheck_server.accounts.models import AuditEvent


def cli_actor() -> str:
    """The operating-system user running a command (sudo's caller when run through sudo)."""
    name = os.environ.get("SUDO_USER")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = f"uid {os.getuid()}"
    return f"cli:{name}"


def record(action: str, target: str = "", *, actor: str, via: str, address: str = "", **detail: Any) -> AuditEvent:
    return AuditEvent.objects.create(
        at=timezone.now(), actor=actor, via=via, action=action, target=target[:300], detail=detail, address=address
    )
