"""Host identity at enrollment: the agent id is the host; a re-imaged machine (new agent id, a silent
host's hints) takes its host over; a clone (new agent id, an active host's hints) is a new host and both
are flagged."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from clientcheck_server.core import credentials
from clientcheck_server.enrollment.models import REPLACED, EnrollmentSecret, HostKey
from clientcheck_server.enrollment.service import enroll
from clientcheck_server.fleet.models import Group, Host, StateChange

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)
HINTS = ["1" * 64, "2" * 64]


@pytest.fixture
def secret() -> EnrollmentSecret:
    value = credentials.new(credentials.SECRET)
    return EnrollmentSecret.objects.create(
        prefix=credentials.prefix(value), key_hash=credentials.digest(value), created_at=NOW, created_by="test"
    )


def join(secret, now, agent_id=None, hints=HINTS, name="ws-1"):
    return enroll(
        secret,
        agent_id=agent_id or uuid.uuid4(),
        hostname=name,
        hints=hints,
        boot_id="b",
        run_as="machine",
        agent_version="0.1.0",
        platform="linux",
        now=now,
    )


def test_enrolling_again_with_the_same_agent_id_replaces_the_key(secret):
    first = join(secret, NOW)
    again = join(secret, NOW + dt.timedelta(hours=1), agent_id=first.host.agent_id)
    assert again.host.pk == first.host.pk
    assert HostKey.objects.get(key_hash=credentials.digest(first.key)).revoked_reason == REPLACED
    assert HostKey.objects.get(key_hash=credentials.digest(again.key)).revoked_at is None
    secret.refresh_from_db()
    assert secret.enrollments == 2


def test_a_reimaged_machine_takes_its_host_over_after_the_old_agent_was_silent(secret):
    old = join(secret, NOW)
    StateChange.objects.create(host=old.host, rule="chrome", product="chrome", old="absent", new="owed", at=NOW)
    later = NOW + dt.timedelta(days=8)  # the default window is 7 days
    new = join(secret, later, name="ws-1-reinstalled")
    assert new.reimaged and not new.clone
    assert new.host.pk == old.host.pk
    host = Host.objects.get(pk=old.host.pk)
    assert (host.hostname, host.reimaged_at) == ("ws-1-reinstalled", later)
    assert StateChange.objects.filter(host=host).count() == 1  # its history is kept
    assert HostKey.objects.get(key_hash=credentials.digest(old.key)).revoked_reason == REPLACED


def test_two_agent_ids_with_the_same_hints_both_reporting_are_two_hosts_flagged_as_clones(secret):
    first = join(secret, NOW, name="golden-image")
    second = join(secret, NOW + dt.timedelta(days=1), name="golden-image")
    assert second.clone and not second.reimaged
    assert second.host.pk != first.host.pk
    assert list(Host.objects.order_by("pk").values_list("clone", flat=True)) == [True, True]
    unrelated = join(secret, NOW, hints=["3" * 64], name="other")
    assert not unrelated.clone and not Host.objects.get(pk=unrelated.host.pk).clone


def test_a_secret_with_a_group_puts_hosts_in_it(secret):
    secret.group = Group.objects.create(name="Lab", created_at=NOW)
    secret.save()
    assert join(secret, NOW).host.group.name == "Lab"
