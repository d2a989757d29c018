"""Applying reports to the store, with the server's clock injected: history as state changes, deadlines on
the server's clock, ordering that an agent's clock cannot disturb, idempotency."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from clientcheck_server.core import credentials
from clientcheck_server.enrollment.models import EnrollmentSecret
from clientcheck_server.enrollment.service import enroll
from clientcheck_server.fleet.models import Host, RuleState, StateChange
from clientcheck_server.ingest import store
from clientcheck_server.ingest.envelope import Envelope, RefusedError
from servertest import envelope, real_report, with_finding

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)
SPOOL = dt.timedelta(days=30)


def stamp(report, moment: dt.datetime):
    report = dict(report)
    report["generated_at"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    report["as_of"] = moment.date().isoformat()
    return report


@pytest.fixture
def host() -> Host:
    value = credentials.new(credentials.SECRET)
    secret = EnrollmentSecret.objects.create(
        prefix=credentials.prefix(value), key_hash=credentials.digest(value), created_at=NOW, created_by="test"
    )
    return enroll(
        secret,
        agent_id=uuid.uuid4(),
        hostname="ws-1",
        hints=[],
        boot_id="",
        run_as="machine",
        agent_version="0.1.0",
        platform="linux",
        now=NOW,
    ).host


def apply(host: Host, report, now: dt.datetime, report_id: str | None = None) -> str:
    document = envelope(report, agent_id=str(host.agent_id), report_id=report_id)
    return store.apply_report(host.pk, Envelope(document), now, SPOOL)


def states(host: Host) -> dict[str, str]:
    return dict(RuleState.objects.filter(host=host).values_list("rule", "status"))


def history(host: Host, rule: str) -> list[tuple[str, str, dt.datetime]]:
    return list(StateChange.objects.filter(host=host, rule=rule).order_by("at", "pk").values_list("old", "new", "at"))


def test_a_first_report_records_each_rule_once_and_the_host_summary(host):
    report = stamp(real_report(now=NOW), NOW)
    assert apply(host, report, NOW) == store.STORED
    rules = {f["rule"] for f in report["findings"]}
    assert set(states(host)) == rules
    assert StateChange.objects.filter(host=host, old="absent").count() == len(rules)
    host.refresh_from_db()
    assert host.status == report["summary"]["status"]
    assert (host.platform, host.os_id, host.os_version) == ("linux", "debian", "12.8")
    assert host.latest.report() == report


def test_only_changes_are_history(host):
    report = stamp(real_report(now=NOW), NOW)
    apply(host, report, NOW)
    later = NOW + dt.timedelta(hours=1)
    fixed = stamp(with_finding(report, "chrome", status="ok", installed="999.0", remedy=None), later)
    assert apply(host, fixed, later) == store.STORED
    assert history(host, "chrome") == [("absent", "owed", NOW), ("owed", "ok", later)]
    # Another rule kept its state: no new row for it.
    assert all(len(history(host, rule)) == 1 for rule in states(host) if rule != "chrome")
    host.refresh_from_db()
    assert host.last_changed == later


def test_a_due_finding_past_its_deadline_on_the_servers_clock_is_owed(host):
    # The agent's clock is a year slow: it still thinks chrome is in its grace period.
    slow = NOW - dt.timedelta(days=365)
    report = stamp(with_finding(real_report(now=NOW), "chrome", status="due", deadline="2026-11-20"), slow)
    apply(host, report, NOW)
    assert states(host)["chrome"] == "owed"
    host.refresh_from_db()
    assert host.clock_skew is True
    assert host.status == "owed"


def test_an_agent_ahead_of_time_does_not_move_a_deadline(host):
    due = with_finding(real_report(now=NOW), "chrome", status="due", deadline="2026-12-01")
    apply(host, stamp(due, NOW), NOW)
    assert states(host)["chrome"] == "due"
    # An hour later the agent's clock is a year ahead: it calls the finding owed (its today is past 12-01).
    later = NOW + dt.timedelta(hours=1)
    ahead = stamp(
        with_finding(real_report(now=NOW), "chrome", status="owed", deadline=None, installed="130.0.1"),
        later + dt.timedelta(days=365),
    )
    assert apply(host, ahead, later) == store.STORED
    state = RuleState.objects.get(host=host, rule="chrome")
    assert (state.status, state.deadline) == ("due", dt.date(2026, 12, 1))
    host.refresh_from_db()
    assert host.clock_skew is True


@pytest.mark.parametrize("skew", [dt.timedelta(hours=1), dt.timedelta(days=365)])
def test_a_report_dated_in_the_future_never_stays_latest_by_its_date(host, skew):
    apply(host, stamp(real_report(now=NOW), NOW + skew), NOW)  # the agent's clock runs ahead
    later = NOW + dt.timedelta(minutes=30)
    fixed = stamp(with_finding(real_report(now=NOW), "chrome", status="ok", installed="999.0"), later)
    assert apply(host, fixed, later) == store.STORED  # the clock was fixed: this one is newer
    assert states(host)["chrome"] == "ok"
    # History is in the server's order, whatever the reports said.
    assert [at for _, _, at in history(host, "chrome")] == [NOW, later]


@pytest.mark.parametrize("behind", [dt.timedelta(hours=1), dt.timedelta(days=365)])
def test_an_agent_behind_still_updates_and_history_keeps_the_servers_order(host, behind):
    apply(host, stamp(real_report(now=NOW), NOW - behind), NOW)
    later = NOW + dt.timedelta(hours=2)
    fixed = stamp(with_finding(real_report(now=NOW), "chrome", status="ok", installed="999.0"), later - behind)
    assert apply(host, fixed, later) == store.STORED
    assert states(host)["chrome"] == "ok"
    assert [at for _, _, at in history(host, "chrome")] == [NOW, later]


def test_an_older_report_arriving_late_is_remembered_but_changes_nothing(host):
    first = stamp(real_report(now=NOW), NOW)
    newer = stamp(with_finding(first, "chrome", status="ok", installed="999.0"), NOW + dt.timedelta(hours=2))
    older = stamp(with_finding(first, "chrome", status="owed", installed="1.0"), NOW + dt.timedelta(hours=1))
    apply(host, first, NOW)
    apply(host, newer, NOW + dt.timedelta(hours=2))
    assert apply(host, older, NOW + dt.timedelta(hours=3)) == store.SUPERSEDED
    assert states(host)["chrome"] == "ok"
    assert len(history(host, "chrome")) == 2


def test_report_ids_make_retries_idempotent(host):
    report = stamp(real_report(now=NOW), NOW)
    report_id = str(uuid.uuid4())
    assert apply(host, report, NOW, report_id) == store.STORED
    assert apply(host, report, NOW + dt.timedelta(minutes=1), report_id) == store.DUPLICATE
    assert StateChange.objects.filter(host=host).count() == len(states(host))
    with pytest.raises(RefusedError) as refused:
        apply(host, with_finding(report, "chrome", installed="5.0"), NOW, report_id)
    assert refused.value.error == "report_id_conflict"


def test_a_rule_that_no_longer_applies_is_recorded_as_absent(host):
    report = stamp(real_report(now=NOW), NOW)
    apply(host, report, NOW)
    later = NOW + dt.timedelta(hours=1)
    without = dict(report, findings=[f for f in report["findings"] if f["rule"] != "chrome"])
    apply(host, stamp(without, later), later)
    assert "chrome" not in states(host)
    assert history(host, "chrome")[-1] == ("owed", "absent", later)


def test_the_worst_finding_of_a_rule_is_its_state():
    report = {
        "findings": [
            {"rule": "chrome", "product": "chrome", "status": "ok", "severity": "required", "deadline": None},
            {"rule": "chrome", "product": "chromium", "status": "owed", "severity": "required", "deadline": None},
            {
                "rule": "evince",
                "product": "evince",
                "status": "due",
                "severity": "recommended",
                "deadline": "2026-12-24",
            },
        ]
    }
    found = store.rule_states(report, dt.date(2026, 11, 25), {}, agent_ahead=False)
    assert (found["chrome"]["status"], found["chrome"]["product"]) == ("owed", "chromium")
    assert found["evince"]["deadline"] == dt.date(2026, 12, 24)
    assert store.summarise([("owed", "recommended")]) == ("due", 0, 1, 0)
    assert store.summarise([("restart", "required"), ("unknown", "required")]) == ("owed", 1, 0, 1)
