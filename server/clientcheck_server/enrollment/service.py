"""Enrollment: a secret buys a host key, and the host is found or made.

Identity, in order: the agent id (a UUID the agent made once) is the host. A new agent id whose hints
match a host whose own agent has been silent for ``reimage_after_days`` is that host, re-imaged: it takes
the host over (history kept, old keys replaced). A new agent id whose hints match a host still reporting
is a clone: a new host, and both are flagged.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.db.models import F

from clientcheck_server.core import credentials
from clientcheck_server.enrollment.models import REPLACED, EnrollmentSecret, HostKey
from clientcheck_server.fleet.models import FleetSettings, Host, HostHint
from clientcheck_server.ingest.store import replace_hints


class Enrolled:
    __slots__ = ("clone", "host", "key", "reimaged")

    def __init__(self, host: Host, key: str, *, reimaged: bool, clone: bool) -> None:
        self.host = host
        self.key = key
        self.reimaged = reimaged
        self.clone = clone


def find_secret(value: str) -> EnrollmentSecret | None:
    if not credentials.well_formed(value, credentials.SECRET):
        return None
    return (
        EnrollmentSecret.objects.select_related("group")
        .filter(key_hash=credentials.digest(value), revoked_at__isnull=True)
        .first()
    )


def enroll(
    secret: EnrollmentSecret,
    *,
    agent_id: uuid.UUID,
    hostname: str,
    hints: list[str],
    boot_id: str,
    run_as: str,
    agent_version: str,
    platform: str,
    now: dt.datetime,
) -> Enrolled:
    window = dt.timedelta(days=FleetSettings.current().reimage_after_days)
    key = credentials.new(credentials.HOST_KEY)
    reimaged = clone = False
    with transaction.atomic():
        host = Host.objects.select_for_update().filter(agent_id=agent_id).first()
        if host is None:
            matches = (
                list(
                    Host.objects.select_for_update()
                    .filter(pk__in=HostHint.objects.filter(hint__in=hints).values("host"))
                    .order_by("-last_seen")
                )
                if hints
                else []
            )
            active = [match for match in matches if match.last_seen >= now - window]
            if matches and not active:
                host = matches[0]  # re-imaged: the newest silent host with these hints
                host.agent_id = agent_id
                host.reimaged_at = now
                reimaged = True
            else:
                host = Host(agent_id=agent_id, first_seen=now, last_seen=now, hostname=hostname)
                if active:
                    clone = True
                    host.clone = True
                    Host.objects.filter(pk__in=[match.pk for match in active]).update(clone=True)
        host.hostname = hostname
        host.run_as = run_as
        host.agent_version = agent_version
        if platform and not host.platform:
            host.platform = platform
        if secret.group_id is not None:
            host.group_id = secret.group_id
        host.last_seen = now
        host.stale = False
        host.archived_at = None
        host.boot_id = boot_id
        host.identities = [{"hints": hints, "boot": boot_id, "at": now.isoformat(timespec="seconds")}]
        host.shared_key = False
        host.save()
        replace_hints(host.pk, hints)
        HostKey.objects.filter(host=host, revoked_at__isnull=True).update(revoked_at=now, revoked_reason=REPLACED)
        HostKey.objects.create(
            key_hash=credentials.digest(key), host=host, agent_id=agent_id, created_at=now, secret=secret
        )
        EnrollmentSecret.objects.filter(pk=secret.pk).update(last_used_at=now, enrollments=F("enrollments") + 1)
    return Enrolled(host, key, reimaged=reimaged, clone=clone)
