"""The dashboard in-process: every page and action behind sign-in, roles and group scoping, CSRF, hostile
host data shown as inert text, CSV's formula guard, keyset paging, exports that match the API and stream,
secrets and tokens shown once, the audit of every change."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
import tracemalloc
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clientcheck_server.accounts.models import APIToken, AuditEvent, User
from clientcheck_server.dashboard.tests.fleet import PASSWORD, admin, make_host, user
from clientcheck_server.enrollment.models import EnrollmentSecret
from clientcheck_server.fleet.housekeeping import run as housekeeping
from clientcheck_server.fleet.models import FleetSettings, Host
from servertest import real_report, with_finding

pytestmark = pytest.mark.django_db

HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


def hostile_report():
    report = real_report()
    for finding in report["findings"]:
        finding["name"] = "<script>alert('name')</script>"
        finding["message"] = '"><img src=x onerror=alert(3)> \x1b[31mRED\x1b[0m'
        finding["url"] = "javascript:alert(4)"
        finding["path"] = "/opt/<b>x</b>/\x1b]0;title\x07"
    for item in report["software"]:
        item["name"] = "<img src=x onerror=alert(5)>"
        item["path"] = "javascript:alert(6)"
    return report


@pytest.fixture
def fleet():
    owed = real_report()
    ok = with_finding(
        with_finding(owed, "chrome", status="ok", installed="999.0"), "firefox-esr", status="ok", installed="999.0"
    )
    hosts = {f"sales-{i}": make_host(f"sales-{i}", "Sales", owed) for i in range(3)}
    hosts["=cmd|' /C calc'!A0"] = make_host("=cmd|' /C calc'!A0", "Lab", ok)
    hosts[HOSTILE] = make_host(HOSTILE, "Lab", hostile_report())
    hosts["new"] = make_host("new")
    return hosts


def signed_in(person: User, **kwargs) -> Client:
    client = Client(**kwargs)
    assert client.login(username=person.username, password=PASSWORD)
    return client


PAGES = [
    "/",
    "/?days=90",
    "/hosts",
    "/hosts.csv",
    "/hosts.json",
    "/rules",
    "/rules.csv",
    "/products.json",
    "/rules/chrome",
    "/rules/chrome/hosts.csv",
    "/account",
]
HOST_PAGES = ["/hosts/{id}", "/hosts/{id}/report.html", "/hosts/{id}/report.json", "/hosts/{id}/history.csv"]
ADMIN_PAGES = ["/hosts/{id}/archive", "/hosts/{id}/delete"]
FLEET_PAGES = ["/secrets", "/tokens", "/users", "/users/new", "/settings", "/audit", "/audit.csv", "/alerts"]


def test_every_page_and_action_needs_signing_in(client, fleet):
    host = fleet["sales-0"].pk
    for path in PAGES + HOST_PAGES + ADMIN_PAGES + FLEET_PAGES:
        path = path.format(id=host)
        answer = client.get(path)
        assert answer.status_code == 302 and answer["Location"].startswith("/signin?next="), path
        answer = client.post(path)
        assert answer.status_code in (302, 403), path  # CSRF refuses a POST without a token first
    assert Host.objects.filter(pk=host).exists()
    assert client.get("/signin").status_code == 200


def test_a_viewer_reads_and_is_refused_every_admin_action(fleet):
    viewer = signed_in(user("vera"))
    host = fleet["sales-0"].pk
    for path in PAGES + HOST_PAGES:
        assert viewer.get(path.format(id=host)).status_code == 200, path
    secrets = EnrollmentSecret.objects.count()
    for path in ADMIN_PAGES + FLEET_PAGES:
        path = path.format(id=host)
        assert viewer.get(path).status_code == 403, path
        assert viewer.post(path, {"name": "x", "role": "admin", "expires_days": 0}).status_code == 403, path
    for path in [
        "/secrets/1/revoke",
        "/tokens/1/revoke",
        f"/users/{User.objects.get(username='vera').pk}/active",
        "/alerts/channels/1/delete",
    ]:
        assert viewer.post(path).status_code == 403, path
    assert Host.objects.filter(pk=host, archived_at__isnull=True).exists()
    assert EnrollmentSecret.objects.count() == secrets
    assert not AuditEvent.objects.filter(via="web").exclude(action="signin").exists()


def test_an_admin_of_some_groups_may_act_on_their_hosts_only(fleet):
    scoped = signed_in(user("sally", "admin", ("Sales",)))
    assert scoped.get("/secrets").status_code == 403
    assert scoped.get("/users").status_code == 403
    lab = fleet["=cmd|' /C calc'!A0"].pk
    assert scoped.post(f"/hosts/{lab}/archive").status_code == 404
    sales = fleet["sales-1"].pk
    assert scoped.post(f"/hosts/{sales}/archive").status_code == 302
    assert Host.objects.get(pk=sales).archived_at is not None
    assert AuditEvent.objects.get(action="host.archive").actor == "sally"


def test_a_viewer_of_one_group_cannot_see_another_groups_hosts(fleet):
    viewer = signed_in(user("vic", groups=("Sales",)))
    for name, host in fleet.items():
        for path in HOST_PAGES:
            expected = 200 if name.startswith("sales-") else 404
            assert viewer.get(path.format(id=host.pk)).status_code == expected, (name, path)
    listed = viewer.get("/hosts").content.decode()
    assert "sales-0" in listed and "calc" not in listed and "new" not in listed.split("<main", 1)[1]
    exported = list(csv.DictReader(io.StringIO(b"".join(viewer.get("/hosts.csv").streaming_content).decode())))
    assert sorted(row["hostname"] for row in exported) == ["sales-0", "sales-1", "sales-2"]
    rule = viewer.get("/rules/chrome").content.decode()
    assert 'data-count="matches">3<' in rule
    overview = viewer.get("/").content.decode()
    assert 'data-count="hosts">3<' in overview
    # Not even the filter may name another group's hosts into view.
    assert "calc" not in viewer.get("/hosts?group=Lab").content.decode()


def test_a_cross_site_post_is_refused(fleet):
    root = admin()
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=root.username, password=PASSWORD)
    page = browser.get("/secrets").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    before = EnrollmentSecret.objects.count()
    # No token (a form on another site cannot read ours).
    assert browser.post("/secrets", {"name": "x"}).status_code == 403
    # A token, but sent from another origin.
    assert (
        browser.post(
            "/secrets", {"name": "x", "csrfmiddlewaretoken": token}, HTTP_ORIGIN="https://evil.example"
        ).status_code
        == 403
    )
    assert EnrollmentSecret.objects.count() == before
    made = browser.post("/secrets", {"name": "ok", "csrfmiddlewaretoken": token}, HTTP_ORIGIN="http://testserver")
    assert made.status_code == 200 and EnrollmentSecret.objects.count() == before + 1


def _inert(text: str) -> None:
    lowered = text.lower()
    assert "<script>alert" not in lowered
    assert "<img src=x" not in lowered
    assert 'href="javascript:' not in lowered
    assert "\x1b" not in text and "\x07" not in text
    # Every script and style on the page is our own file.
    assert re.findall(r"<script(?![^>]*\bsrc=\"/static/)", text) == []
    assert "<style" not in lowered and " style=" not in lowered


def test_hostile_host_data_is_inert_text_everywhere(fleet):
    root = signed_in(admin())
    housekeeping(timezone.now())
    evil = fleet[HOSTILE]
    pages = ["/", "/hosts", "/hosts?group=Lab", f"/hosts/{evil.pk}", "/rules", "/rules/chrome", "/audit"]
    for path in pages:
        answer = root.get(path)
        assert answer.status_code == 200, path
        _inert(answer.content.decode())
    host_page = root.get(f"/hosts/{evil.pk}").content.decode()
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in host_page or "&lt;script&gt;" in host_page
    assert "\\x1b[31mRED" in host_page  # the escape is shown, not obeyed
    assert "javascript:alert(4)" in host_page  # as text
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in host_page  # the host name, as text
    # The agent's own page, offered as it is: its CSP lets no script run in it, ever.
    agent_page = root.get(f"/hosts/{evil.pk}/report.html")
    assert "sandbox" in agent_page["Content-Security-Policy"] and "script" not in agent_page["Content-Security-Policy"]
    _inert(agent_page.content.decode().replace("<style>", "").replace(" style=", ""))
    # CSV: formulas guarded; JSON: controls escaped.
    rows = list(csv.DictReader(io.StringIO(b"".join(root.get("/hosts.csv").streaming_content).decode())))
    assert "'=cmd|' /C calc'!A0" in [row["hostname"] for row in rows]
    exported = b"".join(root.get(f"/hosts/{evil.pk}/report.json").getvalue() for _ in [0]).decode()
    assert "\x1b" not in exported and "\\u001b" in exported


def test_content_security_policy_and_cookies(fleet):
    client = Client()
    answer = client.get("/signin")
    policy = answer["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert answer["X-Frame-Options"] == "DENY"
    root = admin()
    signed = client.post("/signin", {"username": root.username, "password": PASSWORD})
    assert signed.status_code == 302
    session = signed.cookies["clientcheck_session"]
    assert session["httponly"] and session["samesite"] == "Lax"
    csrf_cookie = client.get("/secrets").cookies.get("clientcheck_csrf") or client.cookies["clientcheck_csrf"]
    assert csrf_cookie["samesite"] == "Strict" and csrf_cookie["httponly"]


def test_sign_in_attempts_are_limited_and_passwords_never_logged(fleet, caplog, capsys, settings):
    root = admin("victim")
    client = Client()
    caplog.set_level(logging.DEBUG)
    wrong = "Tr0ub4dor&3-wrong-guess"
    for _ in range(settings.CONFIG.signin_failures_per_hour):
        assert client.post("/signin", {"username": "victim", "password": wrong}).status_code == 401
    refused = client.post("/signin", {"username": "victim", "password": PASSWORD})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    # Another user is not locked out by it (the address's own limit is higher).
    other = user("other")
    assert client.post("/signin", {"username": other.username, "password": PASSWORD}).status_code == 302
    logged = caplog.text + capsys.readouterr().err
    assert "sign-in failed for user 'victim'" in logged
    assert wrong not in logged and PASSWORD not in logged
    assert not AuditEvent.objects.filter(detail__icontains=wrong).exists()
    assert root.check_password(PASSWORD)


def test_sign_in_goes_back_to_the_page_asked_for_and_never_elsewhere(fleet):
    root = admin()
    client = Client()
    back = client.post("/signin", {"username": root.username, "password": PASSWORD, "next": "/hosts?status=owed"})
    assert back["Location"] == "/hosts?status=owed"
    client.logout()
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        away = client.post("/signin", {"username": root.username, "password": PASSWORD, "next": evil})
        assert away["Location"] == "/", evil
        client.logout()


def test_overview_counts_match_the_store(fleet):
    root = signed_in(admin())
    page = root.get("/").content.decode()

    def shown(name):
        return int(re.search(rf'data-count="{name}">(\d+)<', page).group(1))

    active = Host.objects.filter(archived_at__isnull=True)
    assert shown("hosts") == active.count() == 6
    assert shown("owed") == active.filter(status="owed").count()
    assert shown("stale") == active.filter(stale=True).count()
    reported = active.exclude(status="none").count()
    assert f"{100 * active.filter(status='ok').count() / reported:.1f} %" in page


def test_the_overview_reads_the_hosts_once_for_its_counts_and_the_rule_files_in_use(fleet):
    # At 100,000 hosts a pass over the hosts table is the overview's largest cost: the counts and the
    # serials come from one grouped aggregate, and the rest of the page reads the rollups.
    hosts = list(Host.objects.exclude(rules_serial=None).order_by("pk"))
    Host.objects.filter(pk__in=[h.pk for h in hosts[:2]]).update(rules_serial=2026010101)
    Host.objects.filter(pk=hosts[2].pk).update(rules_serial=2025010101, archived_at=timezone.now())
    housekeeping(timezone.now())
    root = signed_in(admin())
    with CaptureQueriesContext(connection) as queries:
        page = root.get("/").content.decode()
    assert [q["sql"] for q in queries if '"fleet_host"' in q["sql"]][1:] == []
    shown = re.findall(r'rules_serial=(\d+)">\d+</a></td><td data-label="Hosts">(\d+)<', page)
    active = Host.objects.filter(archived_at__isnull=True).exclude(rules_serial=None)
    newest = max(active.values_list("rules_serial", flat=True))
    assert newest > 2026010101
    assert shown == [(str(newest), str(active.filter(rules_serial=newest).count())), ("2026010101", "2")]
    assert "2 hosts were judged by an older rule file" in page
    assert re.search(r'data-count="hosts">5<', page)  # six hosts, one archived


def _walk(client, first):
    seen, path, pages = [], first, 0
    while path:
        page = client.get(path).content.decode()
        seen += re.findall(r'<a href="/hosts/(\d+)">', page)
        following = re.search(r'<a href="(\?[^"]*)" rel="next"', page)
        path = "/hosts" + following.group(1).replace("&amp;", "&") if following else None
        pages += 1
    return [int(i) for i in seen], pages


@pytest.mark.parametrize("sort", ["name", "-name", "owed_since", "-last_seen", "last_seen"])
def test_keyset_paging_shows_every_host_once_in_order(fleet, sort):
    for index in range(9):
        make_host(f"extra-{index:02d}", "Sales", real_report() if index % 2 else None)
    root = signed_in(admin())
    _, pages = _walk(root, f"/hosts?sort={sort}&size=25")
    assert pages == 1
    Host.objects.filter(hostname__startswith="extra-0").update(last_seen=timezone.now() - dt.timedelta(hours=1))
    everything, _ = _walk(root, f"/hosts?sort={sort}&size=25")
    assert sorted(everything) == sorted(h.pk for h in Host.objects.filter(archived_at__isnull=True))
    # Small pages: the same hosts in the same order, none twice.
    from clientcheck_server.dashboard import listing

    listing.PAGE_SIZES = (2, *listing.PAGE_SIZES)
    try:
        small, pages = _walk(root, f"/hosts?sort={sort}&size=2")
    finally:
        listing.PAGE_SIZES = listing.PAGE_SIZES[1:]
    assert small == everything and pages == 8 and len(set(small)) == len(small)


def test_previous_pages_and_damaged_cursors(fleet):
    from clientcheck_server.dashboard import listing

    root = signed_in(admin())
    listing.PAGE_SIZES = (2, *listing.PAGE_SIZES)
    try:
        first = root.get("/hosts?size=2").content.decode()
        following = re.search(r'<a href="(\?[^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
        second = root.get("/hosts" + following).content.decode()
        back = re.search(r'<a href="(\?[^"]*)" rel="prev"', second).group(1).replace("&amp;", "&")
        again = root.get("/hosts" + back).content.decode()
    finally:
        listing.PAGE_SIZES = listing.PAGE_SIZES[1:]
    assert re.findall(r'<a href="/hosts/(\d+)">', again) == re.findall(r'<a href="/hosts/(\d+)">', first)
    damaged = root.get("/hosts?after=not-a-cursor")
    assert damaged.status_code == 400 and "damaged" in damaged.content.decode()
    assert root.get("/hosts?status=fine").status_code == 400


def _api(client, token, path):
    answer = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    return b"".join(answer.streaming_content).decode() if answer.streaming else answer.content.decode()


def test_exports_are_the_apis_lists_as_filtered(fleet):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("token", "create", stdout=out, stderr=io.StringIO())
    token = out.getvalue().strip()
    root = signed_in(admin())
    for query in ("", "?status=owed", "?group=Lab", "?rule=chrome&rule_status=owed", "?search=SALES"):
        mine = b"".join(root.get(f"/hosts.csv{query}").streaming_content).decode()
        assert mine == _api(root, token, f"/api/v1/hosts.csv{query}"), query
        listed = json.loads(b"".join(root.get(f"/hosts.json{query}").streaming_content))
        api = json.loads(_api(root, token, f"/api/v1/hosts{query}{'&' if query else '?'}limit=1000"))["results"]
        assert listed == api, query
    mine = b"".join(root.get("/rules/chrome/hosts.csv?status=owed").streaming_content).decode()
    assert mine == _api(root, token, "/api/v1/rules/chrome/hosts.csv?status=owed")


def test_an_export_streams_without_holding_the_fleet(settings):
    now = timezone.now()
    Host.objects.bulk_create(
        Host(agent_id=uuid.uuid4(), hostname=f"bulk-{i:06d}-" + "x" * 60, first_seen=now, last_seen=now)
        for i in range(20000)
    )
    root = signed_in(admin())
    answer = root.get("/hosts.csv")
    assert answer.streaming
    tracemalloc.start()
    try:
        total = 0
        for chunk in answer.streaming_content:
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 4_000_000
    assert peak < total / 4, f"held {peak} bytes while streaming {total}"


def test_a_secret_and_a_token_are_shown_once_and_revoked(fleet):
    root = signed_in(admin())
    made = root.post("/secrets", {"name": "office", "group": "Berlin"}).content.decode()
    value = re.search(r'id="shown-value">(ccs_[A-Za-z0-9_-]{43})<', made).group(1)
    secret = EnrollmentSecret.objects.get(name="office")
    assert secret.group.name == "Berlin" and value not in root.get("/secrets").content.decode()
    assert root.post(f"/secrets/{secret.pk}/revoke").status_code == 302
    secret.refresh_from_db()
    assert secret.revoked_at is not None
    made = root.post("/tokens", {"name": "script", "role": "viewer", "expires_days": 0}).content.decode()
    token = re.search(r'id="shown-value">(cct_[A-Za-z0-9_-]{43})<', made).group(1)
    assert root.get("/api/v1/summary", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    item = APIToken.objects.get(name="script")
    root.post(f"/tokens/{item.pk}/revoke")
    assert root.get("/api/v1/summary", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    actions = list(AuditEvent.objects.filter(via="web").values_list("action", flat=True).order_by("pk"))
    assert actions[-5:] == [
        "group.create",
        "secret.create",
        "secret.revoke",
        "token.create",
        "token.revoke",
    ] or actions[-4:] == ["secret.create", "secret.revoke", "token.create", "token.revoke"]


def test_archive_delete_and_settings(fleet):
    root = signed_in(admin())
    host = fleet["sales-2"]
    assert root.get(f"/hosts/{host.pk}/delete").status_code == 200  # asks first
    assert Host.objects.filter(pk=host.pk).exists()
    assert root.post(f"/hosts/{host.pk}/delete").status_code == 302
    assert not Host.objects.filter(pk=host.pk).exists()
    assert AuditEvent.objects.get(action="host.delete").via == "web"
    refused = root.post(
        "/settings",
        {
            "stale_after_days": 30,
            "archive_after_days": 10,
            "reimage_after_days": 7,
            "history_retention_days": 400,
            "report_id_retention_days": 30,
        },
    )
    assert "must not be shorter" in refused.content.decode()
    assert FleetSettings.current().stale_after_days == 14
    root.post(
        "/settings",
        {
            "stale_after_days": 30,
            "archive_after_days": 120,
            "reimage_after_days": 7,
            "history_retention_days": 400,
            "report_id_retention_days": 30,
        },
    )
    assert FleetSettings.current().stale_after_days == 30
    change = AuditEvent.objects.get(action="settings.change")
    assert change.target == "stale_after_days" and change.detail == {"old": 14, "new": 30}


def test_users_made_and_changed_on_the_web(fleet):
    root = signed_in(admin())
    weak = root.post("/users/new", {"username": "vic", "role": "viewer", "password": "short"})
    assert weak.status_code == 200 and not User.objects.filter(username="vic").exists()
    fine = "a perfectly fine passphrase"
    root.post("/users/new", {"username": "vic", "role": "viewer", "password": fine})
    vic = User.objects.get(username="vic")
    assert vic.check_password(fine) and vic.role == "viewer"
    assert root.post(f"/users/{vic.pk}/active").status_code == 302
    assert not Client().login(username="vic", password=fine)


def test_dates_in_the_users_time_zone(fleet):
    person = user("tokyo")
    person.time_zone = "Asia/Tokyo"
    person.save()
    host = fleet["sales-0"]
    page = signed_in(person).get(f"/hosts/{host.pk}").content.decode()
    local = host.last_seen.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert local.strftime("%Y-%m-%d %H:%M") in page and "times in Asia/Tokyo" in page


def test_counts_are_the_same_from_the_rollup_as_counted_now(fleet):
    root = signed_in(admin())
    viewer = signed_in(user("sal", groups=("Sales",)))

    def numbers(client, path):
        return dict(re.findall(r'data-(?:count|rule-owing)="([^"]+)">([^<]+)<', client.get(path).content.decode()))

    before = [numbers(c, p) for c in (root, viewer) for p in ("/", "/rules/chrome", "/rules/firefox-esr")]
    housekeeping(timezone.now())
    after = [numbers(c, p) for c in (root, viewer) for p in ("/", "/rules/chrome", "/rules/firefox-esr")]
    assert before == after
    assert before[1]["owed"] == "4" and before[4]["owed"] == "3"  # four hosts owe chrome, three of them in Sales


def test_housekeeping_removes_expired_sessions(fleet):
    from django.contrib.sessions.models import Session

    signed_in(admin())
    signed_in(user("later"))
    assert Session.objects.count() == 2
    Session.objects.filter(session_data__isnull=False).update(expire_date=timezone.now() - dt.timedelta(minutes=1))
    signed_in(user("now"))
    summary = housekeeping(timezone.now())
    assert summary["pruned"]["sessions"] == 2 and Session.objects.count() == 1
