"""Deleting and archiving hosts (command line, API, later the dashboard): each revokes or keeps the host
key as the admin meant, and each is written to the audit log in the same transaction."""

from __future__ import annotations

from django.utils import timezone

from clientcheck_server.accounts.audit import record
from clientcheck_server.enrollment.models import DELETED, HostKey
from clientcheck_server.fleet.models import Host


def delete_host(host: Host, *, actor: str, via: str, address: str = "") -> None:
    """Remove the host and its history; its key is revoked, so its agent is told ``revoked`` and stops
    (it does not come back by itself). Call inside a transaction."""
    now = timezone.now()
    HostKey.objects.filter(host=host, revoked_at__isnull=True).update(revoked_at=now, revoked_reason=DELETED)
    HostKey.objects.filter(host=host).update(revoked_reason=DELETED, host=None)
    record(
        "host.delete",
        f"{host.hostname} ({host.agent_id})",
        actor=actor,
        via=via,
        address=address,
        host_id=host.pk,
    )
    host.delete()
