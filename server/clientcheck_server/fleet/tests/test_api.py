"""The read API in-process: filters, keyset paging, CSV with the formula guard, scoping by group, roles,
the audit of admin actions through the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from clientcheck_server.accounts.models import AuditEvent
from clientcheck_server.core import credentials
from clientcheck_server.enrollment.models import DELETED, EnrollmentSecret, HostKey
from clientcheck_server.enrollment.service import enroll
from clientcheck_server.fleet.models import Group, Host
from clientcheck_server.ingest import store
from clientcheck_server.ingest.envelope import Envelope
from servertest import envelope, real_report, with_finding

pytestmark = pytest.mark.django_db


def make_host(name: str, group: str | None = None, report=None) -> Host:
    now = timezone.now()
    value = credentials.new(credentials.SECRET)
    secret = EnrollmentSecret.objects.create(
        prefix=credentials.prefix(value),
        key_hash=credentials.digest(value),
        created_at=now,
        created_by="test",
        group=Group.objects.get_or_create(name=group, defaults={"created_at": now})[0] if group else None,
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
    return host


def token(*args: str) -> str:
    out = io.StringIO()
    call_command("token", "create", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def get(client, value: str, path: str):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {value}")


@pytest.fixture
def fleet():
    owed = real_report()
    ok = with_finding(owed, "chrome", status="ok", installed="999.0")
    ok = with_finding(ok, "firefox-esr", status="ok", installed="999.0")
    hosts = [make_host(f"sales-{i}", "Sales", owed) for i in range(3)]
    hosts += [make_host("=cmd|' /C calc'!A0", "Lab", ok), make_host("lab-2", "Lab", owed), make_host("new")]
    return hosts


def test_tokens_are_required_and_checked(client, fleet):
    assert client.get("/api/v1/hosts").status_code == 401
    assert get(client, "cct_" + "x" * 43, "/api/v1/hosts").status_code == 401
    value = token()
    assert get(client, value, "/api/v1/hosts").status_code == 200
    call_command("token", "revoke", value[:12], stderr=io.StringIO())
    assert get(client, value, "/api/v1/hosts").status_code == 401


def test_filters_and_keyset_paging(client, fleet):
    value = token()
    everything = get(client, value, "/api/v1/hosts").json()
    assert everything["count"] == 6
    owed = get(client, value, "/api/v1/hosts?status=owed").json()
    assert owed["count"] == 4
    assert get(client, value, "/api/v1/hosts?group=Lab&status=ok").json()["count"] == 1
    assert get(client, value, "/api/v1/hosts?group=-").json()["results"][0]["hostname"] == "new"
    assert get(client, value, "/api/v1/hosts?rule=chrome&rule_status=ok").json()["count"] == 1
    assert get(client, value, "/api/v1/hosts?product=firefox&rule_status=unsupported").json()["count"] == 4
    assert get(client, value, "/api/v1/hosts?search=SALES").json()["count"] == 3
    assert get(client, value, "/api/v1/hosts?stale=false&status=none").json()["count"] == 1
    bad = get(client, value, "/api/v1/hosts?status=fine")
    assert bad.status_code == 400 and "status" in bad.json()["detail"]
    seen: list[str] = []
    page = get(client, value, "/api/v1/hosts?limit=4").json()
    while True:
        seen += [host["hostname"] for host in page["results"]]
        if not page["next"]:
            break
        assert page["count"] == 6
        page = get(client, value, page["next"]).json()
    assert sorted(seen) == sorted(host.hostname for host in fleet)


def test_csv_is_guarded_and_matches_the_api(client, fleet):
    value = token()
    response = get(client, value, "/api/v1/hosts.csv?group=Lab")
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["hostname"] for row in rows) == ["'=cmd|' /C calc'!A0", "lab-2"]
    listed = {h["id"]: h["status"] for h in get(client, value, "/api/v1/hosts?group=Lab").json()["results"]}
    assert {int(row["id"]): row["status"] for row in rows} == listed


def test_a_token_scoped_to_a_group_sees_only_that_group(client, fleet):
    sales = token("--group", "Sales")
    assert get(client, sales, "/api/v1/hosts").json()["count"] == 3
    lab_host = Host.objects.get(hostname="lab-2")
    assert get(client, sales, f"/api/v1/hosts/{lab_host.pk}").status_code == 404
    summary = get(client, sales, "/api/v1/summary").json()
    assert summary["hosts"] == 3 and summary["by_status"]["owed"] == 3
    chrome = get(client, sales, "/api/v1/rules/chrome/hosts").json()
    assert {h["hostname"] for h in chrome["results"]} == {"sales-0", "sales-1", "sales-2"}


def test_one_host_with_history_and_latest_report(client, fleet):
    value = token()
    host = Host.objects.get(hostname="lab-2")
    detail = get(client, value, f"/api/v1/hosts/{host.pk}").json()
    assert detail["latest_report"]["report"]["schema"] == "clientcheck.report/1"
    assert {change["new"] for change in detail["history"]} >= {"owed"}
    assert any(state["rule"] == "chrome" and state["status"] == "owed" for state in detail["rule_states"])


def test_rules_and_summary(client, fleet):
    value = token()
    rules = {rule["rule"]: rule for rule in get(client, value, "/api/v1/rules").json()["results"]}
    assert (rules["chrome"]["owed"], rules["chrome"]["ok"]) == (4, 1)
    summary = get(client, value, "/api/v1/summary").json()
    assert summary["hosts"] == 6 and summary["by_status"]["none"] == 1
    assert summary["compliant_percent"] == 20.0
    text = b"".join(get(client, value, "/api/v1/rules/chrome/hosts.csv?status=owed").streaming_content).decode()
    assert len(list(csv.DictReader(io.StringIO(text)))) == 4


def test_only_admin_tokens_delete_and_it_is_audited(client, fleet):
    host = Host.objects.get(hostname="lab-2")
    viewer, admin = token(), token("--role", "admin")
    assert client.delete(f"/api/v1/hosts/{host.pk}", HTTP_AUTHORIZATION=f"Bearer {viewer}").status_code == 403
    assert Host.objects.filter(pk=host.pk).exists()
    answer = client.delete(f"/api/v1/hosts/{host.pk}", HTTP_AUTHORIZATION=f"Bearer {admin}")
    assert answer.status_code == 200
    assert not Host.objects.filter(pk=host.pk).exists()
    assert HostKey.objects.filter(agent_id=host.agent_id, revoked_reason=DELETED).exists()
    event = AuditEvent.objects.get(action="host.delete")
    assert (event.via, event.actor.startswith(f"token:{admin[:12]}")) == ("api", True)
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("pk")) == [
        "token.create",
        "token.create",
        "host.delete",
    ]


def test_every_admin_command_is_audited():
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command("secret", "create", "--group", "Ops", **quiet)
    call_command("settings", "set", "stale_after_days", "30", **quiet)
    call_command("token", "create", "--role", "admin", **quiet)
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", "via"))
    assert actions == [
        ("group.create", "cli"),
        ("secret.create", "cli"),
        ("settings.change", "cli"),
        ("token.create", "cli"),
    ]
    assert AuditEvent.objects.get(action="settings.change").detail == {"old": 14, "new": 30}
    assert all(event.actor.startswith("cli:") for event in AuditEvent.objects.all())


def test_summary_counts_come_from_a_fresh_rollup_and_agree_with_counting_now(client, fleet):
    from clientcheck_server.fleet import housekeeping

    value = token()
    live = get(client, value, "/api/v1/summary").json()
    scoped_live = get(client, token("--group", "Lab"), "/api/v1/summary").json()
    moment = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)  # fresh, and not "now"
    housekeeping.run(moment)
    rolled = get(client, value, "/api/v1/summary").json()
    assert rolled["counts_at"] == moment.strftime("%Y-%m-%dT%H:%M:%SZ") != live["counts_at"]
    assert (rolled["by_rule"], rolled["by_product"]) == (live["by_rule"], live["by_product"])
    scoped = get(client, token("--group", "Lab"), "/api/v1/summary").json()
    assert (scoped["by_rule"], scoped["by_product"]) == (scoped_live["by_rule"], scoped_live["by_product"])
    assert get(client, value, "/api/v1/rules").json()["results"] == live["by_rule"]
