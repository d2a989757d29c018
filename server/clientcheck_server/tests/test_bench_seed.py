"""bench/seed.py writes what ingest writes: the same simulated fleet, once through the real endpoints
(enroll, reports) and the real housekeeping at the same server clock, once by the seeder, answers the read
API the same (every list, every host with its history and latest report, the summary, each rule's hosts,
the CSV), and leaves the same daily and per-rule rollups behind."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from servertest import REPO

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 7, 12, 30, tzinfo=dt.timezone.utc)
HOSTS, DAYS, SEED, SILENT = 14, 40, 7, 0.3


@pytest.fixture
def seed_module(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    import seed

    yield seed
    for name in ("seed", "fleetreports"):
        sys.modules.pop(name, None)


@pytest.fixture
def clock(monkeypatch):
    moment = [NOW]
    monkeypatch.setattr(timezone, "now", lambda: moment[0])
    return moment


def _through_ingest(seed: Any, clock: list[dt.datetime]) -> None:
    """Every request of every simulated host, in the order of the server's clock, through the endpoints; the
    daily housekeeping between them; a last housekeeping at NOW."""
    from clientcheck_server.core import credentials
    from clientcheck_server.enrollment.models import EnrollmentSecret
    from clientcheck_server.fleet import housekeeping
    from clientcheck_server.fleet.models import Group

    fleet = seed.Fleet(now=NOW, hosts=HOSTS, days=DAYS, seed=SEED, silent=SILENT)
    secrets: dict[str | None, str] = {}
    for name in (*seed.GROUPS, None):
        value = credentials.new(credentials.SECRET)
        group = Group.objects.get_or_create(name=name, defaults={"created_at": fleet.start})[0] if name else None
        EnrollmentSecret.objects.create(
            prefix=credentials.prefix(value),
            key_hash=credentials.digest(value),
            created_at=fleet.start,
            created_by="test",
            group=group,
        )
        secrets[name] = value
    events = [(moment, 1, "housekeeping", None, None) for moment in fleet.housekeeping()]
    for index in range(HOSTS):
        host = fleet.host(index)
        events += [(moment, 0, kind, host, payload) for moment, kind, payload in fleet.events(host)]
    client = Client()
    keys: dict[int, str] = {}
    kinds = {"report": 0, "check-in": 0}
    for moment, _, kind, host, payload in sorted(events, key=lambda event: event[:2]):
        clock[0] = moment
        if kind == "housekeeping":
            housekeeping.run(moment)
            continue
        if kind == "enroll":
            body = {
                "secret": secrets[host.group],
                "agent_id": str(host.agent_id),
                "hostname": host.hostname,
                "hints": host.hints,
                "boot_id": host.boot,
                "platform": host.platform,
                "agent_version": host.version,
                "run_as": "machine",
            }
            answer = client.post("/api/v1/enroll", json.dumps(body), content_type="application/json")
            assert answer.status_code == 200, answer.content
            keys[host.index] = answer.json()["host_key"]
            continue
        report, report_id = payload
        document = {**report, "generated_at": seed.fleetreports.stamp(moment)}
        envelope = {
            "envelope": "clientcheck.envelope/1",
            "report_id": str(report_id),
            "agent_id": str(host.agent_id),
            "content_hash": seed.fleetreports.content_hash(document),
            "hostname": host.hostname,
            "hints": host.hints,
            "boot_id": host.boot,
            "agent_version": host.version,
            "run_as": "machine",
            "report": document,
        }
        answer = client.post(
            "/api/v1/reports",
            json.dumps(envelope),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {keys[host.index]}",
        )
        assert answer.status_code == 202, answer.content
        assert answer.json()["outcome"] == ("stored" if kind == "report" else "check-in")
        kinds[kind] += 1
    clock[0] = NOW
    housekeeping.run(NOW)
    assert kinds["report"] > HOSTS * DAYS // 2 and kinds["check-in"] > 0


def _store(token: str) -> dict[str, Any]:
    """What the read API answers, host ids replaced by agent ids (the two stores number hosts apart)."""
    from clientcheck_server.fleet.models import DailyRollup, Host, RuleRollup, StateChange

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    agents = {host.pk: str(host.agent_id) for host in Host.objects.all()}

    def get(path: str) -> Any:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.content)
        if answer.get("Content-Type", "").startswith("text/csv"):
            return b"".join(answer.streaming_content).decode()
        return answer.json()

    def renumbered(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "id": agents[item["id"]]}

    hosts = get("/api/v1/hosts?limit=1000&archived=all")
    assert hosts["next"] is None
    rules = get("/api/v1/rules")["results"]
    answers: dict[str, Any] = {
        "hosts": [renumbered(item) for item in hosts["results"]],
        "summary": {key: value for key, value in get("/api/v1/summary").items() if key != "at"},
        "rules": rules,
        "owed": [renumbered(item) for item in get("/api/v1/hosts?status=owed&limit=1000")["results"]],
        "stale": [renumbered(item) for item in get("/api/v1/hosts?stale=true&limit=1000")["results"]],
    }
    csv_lines = get("/api/v1/hosts.csv").splitlines()
    rows = sorted(agents[int(line.split(",", 1)[0])] + "," + line.split(",", 1)[1] for line in csv_lines[1:])
    answers["hosts.csv"] = [csv_lines[0], *rows]
    for rule in rules:
        found = get(f"/api/v1/rules/{rule['rule']}/hosts?limit=1000")["results"]
        answers[f"rule {rule['rule']}"] = sorted((renumbered(item) for item in found), key=lambda item: item["id"])
    for pk, agent in agents.items():
        answers[f"host {agent}"] = renumbered(get(f"/api/v1/hosts/{pk}"))
    answers["hosts"].sort(key=lambda item: item["id"])
    answers["owed"].sort(key=lambda item: item["id"])
    answers["stale"].sort(key=lambda item: item["id"])
    answers["daily rollups"] = sorted(
        DailyRollup.objects.values_list(
            "day",
            "group__name",
            "hosts",
            "reporting",
            "stale",
            "archived",
            "ok",
            "due",
            "owed",
            "unknown",
            "none",
            "at",
        ),
        key=str,
    )
    answers["rule rollups"] = sorted(
        RuleRollup.objects.values_list(
            "day", "group__name", "rule", "product", "at", "ok", "due", "owed", "unsupported", "restart", "unknown"
        ),
        key=str,
    )
    answers["changes"] = len(StateChange.objects.all())
    return answers


def _wipe() -> None:
    from clientcheck_server.core.models import HousekeepingRun, RateCounter
    from clientcheck_server.enrollment.models import HostKey
    from clientcheck_server.fleet.models import DailyRollup, Host, RuleRollup

    HostKey.objects.all().delete()
    Host.objects.all().delete()
    DailyRollup.objects.all().delete()
    RuleRollup.objects.all().delete()
    RateCounter.objects.all().delete()
    HousekeepingRun.objects.all().delete()


def test_a_seeded_store_answers_the_read_api_as_one_made_through_ingest(seed_module, clock):
    from django.core.management import call_command

    from clientcheck_server.fleet.models import Host, StateChange

    out = io.StringIO()
    call_command("token", "create", stdout=out, stderr=io.StringIO())
    token = out.getvalue().strip()

    _through_ingest(seed_module, clock)
    ingested = _store(token)
    # The simulated fleet has what the comparison needs: history of every kind, stale and owed hosts.
    causes = set(StateChange.objects.values_list("cause", flat=True))
    assert causes == {"report", "deadline"}
    assert {"ok", "due", "owed"} <= set(StateChange.objects.values_list("new", flat=True))
    assert Host.objects.filter(stale=True).exists() and Host.objects.filter(status="owed").exists()
    assert Host.objects.exclude(group=None).exists() and Host.objects.filter(group=None).exists()

    _wipe()
    done = seed_module.seed(now=NOW, hosts=HOSTS, days=DAYS, seed_value=SEED, silent=SILENT, method="insert")
    assert done["hosts"] == HOSTS
    seeded = _store(token)

    assert seeded.keys() == ingested.keys()
    for key in ingested:
        assert seeded[key] == ingested[key], key
