"""A small fleet in the in-process test database, made the way ingest makes it (enrollment, then reports
applied by the store), and users to sign in with."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.utils import timezone

from clientcheck_server.accounts.models import ADMIN, VIEWER, User
from clientcheck_server.core import credentials
from clientcheck_server.enrollment.models import EnrollmentSecret
from clientcheck_server.enrollment.service import enroll
from clientcheck_server.fleet.models import Group, Host
from clientcheck_server.ingest import store
from clientcheck_server.ingest.envelope import Envelope
from servertest import envelope

PASSWORD = "a long enough test password"


def group(name: str) -> Group:
    return Group.objects.get_or_create(name=name, defaults={"created_at": timezone.now()})[0]


def make_host(name: str, group_name: str | None = None, report: dict[str, Any] | None = None) -> Host:
    now = timezone.now()
    value = credentials.new(credentials.SECRET)
    secret = EnrollmentSecret.objects.create(
        prefix=credentials.prefix(value),
        key_hash=credentials.digest(value),
        created_at=now,
        created_by="test",
        group=group(group_name) if group_name else None,
    )
    host = enroll(
        secret,
        agent_id=uuid.uuid4(),
        hostname=name,
        hints=[],
        boot_id="",
        run_as="machine",
        agent_version="0.1.0",
        platform="linux",
        now=now,
    ).host
    if report is not None:
        store.apply_report(
            host.pk, Envelope(envelope(report, agent_id=str(host.agent_id), hostname=name)), now, dt.timedelta(days=30)
        )
    return Host.objects.get(pk=host.pk)


def user(name: str, role: str = VIEWER, groups: tuple[str, ...] = ()) -> User:
    made = User(username=name, role=role)
    made.set_password(PASSWORD)
    made.save()
    made.fleet_groups.set([group(g) for g in groups])
    return made


def admin(name: str = "root") -> User:
    return user(name, ADMIN)
