"""How fast the dashboard's pages answer: every page, p50 and p95 of the time to the last byte, measured
from this machine's loopback against a real `clientcheck-server serve` on a store you name.

    python bench/dashboard.py --database URL [--seed HOSTS] [--requests 30] [--workers 1]

--database is the store to measure (sqlite:///PATH or postgresql://…): a store the collector's bulk seeder
made (the lead's 100,000-host measurement), or an empty one that --seed fills first with a quick store of
its own: HOSTS hosts in ten groups (about 55 % up to date, 20 % owing, 10 % due), four rules each, 90 days
of state changes and daily rollups. Housekeeping runs once before measuring (as serve runs it every five
minutes), so the overview reads fresh rollups as it does in production. Each page is asked for a few times
to warm up, then --requests times, one at a time; the figures are wall time from sending the request to
having read the whole answer, on loopback: the server's time to last byte, plus a fraction of a
millisecond. Exports (the whole fleet as CSV) are timed apart: they stream, and their size grows with the
fleet. A bench admin and a viewer of one group are made in the store (names bench-admin, bench-viewer).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))
PASSWORD = "bench password, not a secret"  # noqa: S105
RULES = [
    ("chrome", "chrome"),
    ("firefox-esr", "firefox"),
    ("windows-11", "windows"),
    ("acrobat-reader", "acrobat-reader"),
]


def _cli() -> str:
    return str(Path(sys.executable).parent / "clientcheck-server")


def _env(data: Path, database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTCHECK_SERVER_")}
    env.update(CLIENTCHECK_SERVER_DATA=str(data), CLIENTCHECK_SERVER_DATABASE=database)
    return env


def seed(hosts: int, days: int = 90) -> None:
    """A quick store: what ingest and housekeeping would have written, by bulk inserts."""
    from django.db import transaction
    from django.utils import timezone

    from clientcheck_server.fleet.models import (
        DailyRollup,
        Group,
        Host,
        LatestReport,
        RuleRollup,
        RuleState,
        StateChange,
    )
    from servertest import real_report, with_finding

    rng = random.Random(13)  # noqa: S311 - made-up data, the same every run
    now = timezone.now()
    groups = [Group.objects.get_or_create(name=f"group-{i}", defaults={"created_at": now})[0] for i in range(10)]
    owed_report = real_report()
    bodies = {
        "owed": LatestReport.pack(owed_report),
        "ok": LatestReport.pack(
            with_finding(with_finding(owed_report, "chrome", status="ok"), "firefox-esr", status="ok")
        ),
    }
    statuses = ["ok"] * 55 + ["owed"] * 20 + ["due"] * 10 + ["unknown"] * 5 + ["none"] * 10
    batch = 2000
    for start in range(0, hosts, batch):
        with transaction.atomic():
            made = []
            for index in range(start, min(hosts, start + batch)):
                status = rng.choice(statuses)
                stale = rng.random() < 0.05
                last_seen = now - (
                    dt.timedelta(days=rng.uniform(15, 60)) if stale else dt.timedelta(hours=rng.uniform(0, 20))
                )
                made.append(
                    Host(
                        agent_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                        hostname=f"ws-{index:06d}",
                        group=groups[index % 11] if index % 11 < 10 else None,
                        platform=("linux", "windows", "macos")[index % 3],
                        os_id=("debian", "windows", "macos")[index % 3],
                        os_version="12.8",
                        agent_version="0.1.0",
                        status=status,
                        owed=2 if status == "owed" else 0,
                        due=1 if status == "due" else 0,
                        owed_since=now - dt.timedelta(days=rng.uniform(0, days)) if status == "owed" else None,
                        rules_serial=2026112501 if rng.random() < 0.9 else 2026100101,
                        rules_stale=rng.random() < 0.02,
                        rules_fallback=rng.random() < 0.01,
                        first_seen=now - dt.timedelta(days=days),
                        last_seen=last_seen,
                        last_changed=last_seen,
                        stale=stale,
                    )
                )
            Host.objects.bulk_create(made)
            states, changes, reports = [], [], []
            for host in made:
                if host.status == "none":
                    continue
                reports.append(
                    LatestReport(
                        host=host,
                        report_id=uuid.uuid4(),
                        content_hash="0" * 64,
                        received_at=host.last_seen,
                        generated_at=host.last_seen,
                        effective_at=host.last_seen,
                        body=bodies["owed" if host.status == "owed" else "ok"],
                    )
                )
                for rule, product in RULES:
                    state = (
                        host.status
                        if rule in ("chrome", "firefox-esr") and host.status in ("owed", "due", "unknown")
                        else "ok"
                    )
                    since = host.owed_since if state == "owed" else now - dt.timedelta(days=rng.uniform(0, days))
                    states.append(
                        RuleState(
                            host=host,
                            rule=rule,
                            product=product,
                            status=state,
                            installed="130.0",
                            required="156.0",
                            deadline=(now + dt.timedelta(days=5)).date() if state == "due" else None,
                            since=since,
                        )
                    )
                    for step in range(rng.randint(1, 3)):
                        changes.append(
                            StateChange(
                                host=host,
                                rule=rule,
                                product=product,
                                old="ok" if step else "absent",
                                new=state if step else "ok",
                                at=since - dt.timedelta(days=step * 7),
                                installed="130.0",
                                required="156.0",
                            )
                        )
            LatestReport.objects.bulk_create(reports, batch_size=1000)
            RuleState.objects.bulk_create(states, batch_size=5000)
            StateChange.objects.bulk_create(changes, batch_size=5000)
        print(f"  seeded {min(hosts, start + batch):,} hosts", file=sys.stderr)
    today = now.date()
    per_group = max(1, hosts // 11)
    rollups, rule_rollups = [], []
    for back in range(1, days):
        day = today - dt.timedelta(days=back)
        for group in [*groups, None]:
            owed = int(per_group * (0.2 + 0.1 * back / days))
            rollups.append(
                DailyRollup(
                    day=day, group=group, hosts=per_group, reporting=per_group, ok=per_group - owed, owed=owed, at=now
                )
            )
            for rule, product in RULES:
                rule_rollups.append(
                    RuleRollup(day=day, group=group, rule=rule, product=product, ok=per_group - owed, owed=owed, at=now)
                )
    DailyRollup.objects.bulk_create(rollups, batch_size=5000)
    RuleRollup.objects.bulk_create(rule_rollups, batch_size=5000)


def users() -> None:
    from clientcheck_server.accounts.models import ADMIN, VIEWER, User
    from clientcheck_server.fleet.models import Group

    for name, role in (("bench-admin", ADMIN), ("bench-viewer", VIEWER)):
        user, _ = User.objects.get_or_create(username=name, defaults={"role": role})
        user.set_password(PASSWORD)
        user.save()
    group = Group.objects.order_by("name").first()
    if group is not None:
        User.objects.get(username="bench-viewer").fleet_groups.set([group])


def pages() -> list[tuple[str, str]]:
    """(who, path) for every page, with ids and cursors from the store."""
    from clientcheck_server.dashboard.listing import encode_cursor
    from clientcheck_server.fleet.models import Group, Host, RuleState

    count = Host.objects.count()
    middle = Host.objects.order_by("hostname", "id").values_list("hostname", "id")[count // 2]
    host = Host.objects.filter(status="owed").order_by("id").values_list("id", flat=True).first() or 1
    group = Group.objects.order_by("name").values_list("name", flat=True).first() or "-"
    state = RuleState.objects.filter(rule="chrome", status="owed").order_by("since", "id").values_list("since", "id")
    deep = state[state.count() // 2] if state.count() else None
    rule_after = f"&after={encode_cursor(deep[0], deep[1])}" if deep else ""
    name = Host.objects.order_by("id").values_list("hostname", flat=True)[count // 3]
    admin = [
        "/",
        "/?days=90",
        "/hosts",
        f"/hosts?after={encode_cursor(middle[0], middle[1])}",
        "/hosts?status=owed&sort=owed_since",
        "/hosts?sort=-last_seen&size=200",
        f"/hosts?group={group}&status=due",
        "/hosts?rule=chrome&rule_status=owed",
        "/hosts?stale=true",
        "/hosts?rules_stale=true",
        f"/hosts?search={name[-5:]}",
        f"/hosts/{host}",
        "/rules",
        "/rules/chrome",
        f"/rules/chrome?status=owed{rule_after}",
        "/secrets",
        "/tokens",
        "/users",
        "/settings",
        "/alerts",
        "/audit",
        "/account",
    ]
    viewer = ["/", "/hosts", "/rules/chrome"]
    return [("admin", p) for p in admin] + [("viewer", p) for p in viewer]


def _session(url: str, username: str):  # noqa: ANN202
    import re

    import requests

    session = requests.Session()
    form = session.get(url + "/signin", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(
        url + "/signin",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Origin": url},
        timeout=60,
        allow_redirects=False,
    )
    assert answer.status_code == 302, f"cannot sign in as {username}: {answer.status_code}"
    return session


def _time(session, url: str) -> tuple[float, int, int]:  # noqa: ANN001
    started = time.perf_counter()
    answer = session.get(url, timeout=300)
    size = len(answer.content)
    return time.perf_counter() - started, size, answer.status_code


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="sqlite:///PATH or postgresql://USER@HOST:PORT/NAME")
    parser.add_argument("--seed", type=int, default=0, help="fill an empty store with this many hosts first")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (after 3 to warm up)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--data", help="the server's data folder (default: a temporary one)")
    options = parser.parse_args()
    data = Path(options.data or tempfile.mkdtemp(prefix="clientcheck-bench-"))
    env = _env(data, options.database)
    subprocess.run([_cli(), "migrate"], env=env, check=True)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "clientcheck_server.settings"
    import django

    django.setup()
    if options.seed:
        started = time.perf_counter()
        seed(options.seed)
        print(f"seeded {options.seed:,} hosts in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    users()
    started = time.perf_counter()
    subprocess.run([_cli(), "housekeeping", "--quiet"], env=env, check=True)
    housekeeping = time.perf_counter() - started
    from django.db import connection

    from clientcheck_server.fleet.models import Host, RuleState, StateChange

    figures = {
        "hosts": Host.objects.count(),
        "rule states": RuleState.objects.count(),
        "state changes": StateChange.objects.count(),
    }
    plan = pages()
    connection.close()
    from servertest import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [_cli(), "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(options.workers), "--no-housekeeping"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        import requests

        for _ in range(300):
            try:
                if requests.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        sessions = {"admin": _session(url, "bench-admin"), "viewer": _session(url, "bench-viewer")}
        engine = options.database.split(":", 1)[0]
        print(
            f"# dashboard pages, {engine}, {figures['hosts']:,} hosts, {figures['rule states']:,} rule states, "
            f"{figures['state changes']:,} state changes; {options.workers} worker(s); "
            f"{options.requests} requests a page"
        )
        print(
            f"# {dt.date.today()}, {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
            f"housekeeping before: {housekeeping:.1f} s"
        )
        print(f"{'who':<7} {'page':<58} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'KB':>7}")
        worst = 0.0
        for who, path in plan:
            session = sessions[who]
            for _ in range(3):
                _time(session, url + path)
            times, size, status = [], 0, 200
            for _ in range(options.requests):
                took, size, status = _time(session, url + path)
                times.append(took * 1000)
            p95 = _percentile(times, 0.95)
            worst = max(worst, p95)
            shown = path if len(path) <= 58 else path[:55] + "..."
            flag = "" if status == 200 else f"  HTTP {status}"
            median = statistics.median(times)
            print(f"{who:<7} {shown:<58} {median:8.1f} {p95:8.1f} {max(times):8.1f} {size / 1024:7.1f}{flag}")
        print(f"# worst page p95: {worst:.1f} ms")
        for path in ("/hosts.csv", "/rules/chrome/hosts.csv?status=owed"):
            took, size, status = _time(sessions["admin"], url + path)
            print(f"# export {path}: {size / 1e6:.1f} MB in {took:.2f} s (HTTP {status}, streamed)")
    finally:
        import signal

        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
