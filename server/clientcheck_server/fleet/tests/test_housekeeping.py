"""Housekeeping with the server's clock injected: deadlines pass, hosts go stale and are archived (and come
back), retention prunes, the daily rollup is per group."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from clientcheck_server.core import credentials
from clientcheck_server.enrollment.models import EnrollmentSecret
from clientcheck_server.enrollment.service import enroll
from clientcheck_server.fleet import housekeeping
from clientcheck_server.fleet.models import (
    DailyRollup,
    FleetSettings,
    Group,
    Host,
    RuleRollup,
    RuleState,
    SeenReport,
    StateChange,
)
from clientcheck_server.ingest import store
from clientcheck_server.ingest.envelope import Envelope
from servertest import envelope, real_report, with_finding

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)


def make_host(name: str, group: Group | None = None, now: dt.datetime = NOW) -> Host:
    value = credentials.new(credentials.SECRET)
    secret = EnrollmentSecret.objects.create(
        prefix=credentials.prefix(value),
        key_hash=credentials.digest(value),
        created_at=now,
        created_by="test",
        group=group,
    )
    return enroll(
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


def ship(host: Host, report, now: dt.datetime) -> None:
    report = dict(report, generated_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"), as_of=now.date().isoformat())
    store.apply_report(host.pk, Envelope(envelope(report, agent_id=str(host.agent_id))), now, dt.timedelta(days=30))


def test_a_due_finding_becomes_owed_when_its_deadline_passes_on_the_server():
    host = make_host("ws-1")
    ship(host, with_finding(real_report(now=NOW), "chrome", status="due", deadline="2026-11-27"), NOW)
    host.refresh_from_db()
    before = host.status
    assert housekeeping.run(NOW + dt.timedelta(days=1))["deadlines_passed"] == 0
    deadline_day = dt.datetime(2026, 11, 27, 0, 30, tzinfo=dt.timezone.utc)
    assert housekeeping.run(deadline_day)["deadlines_passed"] == 1
    state = RuleState.objects.get(host=host, rule="chrome")
    assert (state.status, state.since) == ("owed", deadline_day)
    change = StateChange.objects.filter(host=host, rule="chrome").latest("at")
    assert (change.old, change.new, change.cause, change.at) == ("due", "owed", "deadline", deadline_day)
    host.refresh_from_db()
    assert host.status == "owed" and host.owed >= 1
    assert before in ("owed", "due")
    assert housekeeping.run(deadline_day + dt.timedelta(hours=1))["deadlines_passed"] == 0  # once


def test_silent_hosts_go_stale_then_archived_and_come_back_when_they_report():
    fleet = FleetSettings.current()
    host = make_host("quiet")
    ship(host, real_report(now=NOW), NOW)
    result = housekeeping.run(NOW + dt.timedelta(days=fleet.stale_after_days, minutes=1))
    assert result["marked_stale"] == 1
    host.refresh_from_db()
    assert host.stale and host.archived_at is None
    much_later = NOW + dt.timedelta(days=fleet.archive_after_days, minutes=1)
    assert housekeeping.run(much_later)["archived"] == 1
    host.refresh_from_db()
    assert host.archived_at == much_later
    back = much_later + dt.timedelta(days=1)
    ship(host, with_finding(real_report(now=NOW), "chrome", status="ok", installed="999.0"), back)
    host.refresh_from_db()
    assert not host.stale and host.archived_at is None and host.last_seen == back


def test_retention_prunes_history_and_report_ids():
    fleet = FleetSettings.current()
    host = make_host("old")
    ship(host, real_report(now=NOW), NOW)
    assert StateChange.objects.filter(host=host).exists() and SeenReport.objects.filter(host=host).exists()
    pruned = housekeeping.run(NOW + dt.timedelta(days=fleet.report_id_retention_days + 1))["pruned"]
    assert pruned["report_ids"] == 1 and pruned["state_changes"] == 0
    pruned = housekeeping.run(NOW + dt.timedelta(days=fleet.history_retention_days + 1))["pruned"]
    assert pruned["state_changes"] > 0
    assert not StateChange.objects.filter(host=host).exists()
    assert RuleState.objects.filter(host=host).exists()  # the current state is never pruned


def test_the_daily_rollup_is_kept_per_group_and_rewritten_during_the_day():
    sales = Group.objects.create(name="Sales", created_at=NOW)
    for index in range(3):
        ship(make_host(f"sales-{index}", sales), real_report(now=NOW), NOW)
    ship(make_host("loner"), with_finding(real_report(now=NOW), "chrome", status="ok", installed="999.0"), NOW)
    make_host("silent")
    housekeeping.run(NOW)
    rows = {row.group_id: row for row in DailyRollup.objects.filter(day=NOW.date())}
    assert (rows[sales.pk].hosts, rows[sales.pk].owed, rows[sales.pk].reporting) == (3, 3, 3)
    assert (rows[None].hosts, rows[None].none) == (2, 1)
    chrome = {row.group_id: row for row in RuleRollup.objects.filter(day=NOW.date(), rule="chrome")}
    assert (chrome[sales.pk].owed, chrome[None].ok) == (3, 1)
    housekeeping.run(NOW + dt.timedelta(hours=3))  # the same day: rewritten, not added
    assert DailyRollup.objects.filter(day=NOW.date()).count() == 2
