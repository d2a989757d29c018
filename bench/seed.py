"""Bulk seeder: a clientcheck-server store of N hosts with D days of history, written straight into the
database in minutes, holding what ingest and housekeeping would have written had each host reported every
hour for D days: hosts, hints, host keys, latest reports, rule states, the state changes, the report ids
still remembered, the daily and per-rule rollups, the rate counters. The server's clock is injectable
(``--now``): every moment in the store is computed from it, so two seeds with the same arguments are alike.

    .venv/bin/python bench/seed.py --data /tmp/fleet --hosts 100000                      # SQLite
    .venv/bin/python bench/seed.py --data /tmp/fleet --database postgresql://… --hosts 100000 [--method copy]

The fleet it simulates (bench/fleetreports.py): each host is one of the fixture machines, reported by the
real agent, in one of a few groups, with one of three agent versions. Every host reports hourly; ``as_of``
is part of a report, so the first report of each server day is a changed report (stored, its id
remembered) and the rest of that day are check-ins (``last_seen`` only). A browser release comes every 14
days; each host installs it some days later (most within a week, some late, some never), so its finding
goes ok -> due -> owed (at the deadline, passed by housekeeping) -> ok. A share of the hosts go silent at
some point (they turn stale). Housekeeping runs daily at 00:05 (deadlines, stale marking, the day's
rollups); the real housekeeping runs once more at ``--now`` when the seed is written.

How it stays the same as ingest: each report's rule states and changes come from the ingest path's own pure
functions (``clientcheck_server.ingest.store.rule_states``, ``plan_changes``, ``summarise``), and
server/clientcheck_server/tests/test_bench_seed.py feeds the same reports through the real endpoints and
housekeeping at the same clock and checks that the read API answers the same on both stores.

A bench tool, not a server command: it makes up thousands of hosts, so it refuses a store that already has
hosts and it is not part of ``clientcheck-server`` (a production command line must not be able to do that).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import io
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import fleetreports  # noqa: E402

GROUPS = ("Sales", "Engineering", "Finance", "Support", "Lab")  # and hosts in no group
RELEASE_EVERY = 14  # days between browser releases
HOUSEKEEPING_AT = dt.timedelta(minutes=5)  # after midnight, every day
SILENT_SHARE = 0.05
UTC = dt.timezone.utc
store: Any = None  # clientcheck_server.ingest.store, once Django is set up (see _server)
server_day: Any = None


def _server() -> None:
    global store, server_day
    if store is None:
        from clientcheck_server.fleet.timekeeping import server_day as day_of
        from clientcheck_server.ingest import store as ingest_store

        store, server_day = ingest_store, day_of


def host_key(seed: int, index: int) -> str:
    """The seeded host's key (``cck_`` and 43 base64url characters, as the server makes them): derived, so a
    load test can ship as seeded hosts (``--keys FILE`` lists them)."""
    digest = hashlib.sha256(f"clientcheck-seed:{seed}:{index}".encode()).digest()
    return "cck_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


class SimHost:
    """One simulated host's fixed traits and timeline."""

    __slots__ = (
        "agent_id",
        "boot",
        "enrolled",
        "group",
        "hints",
        "hostname",
        "index",
        "lag",
        "machine",
        "minute",
        "platform",
        "silent_day",
        "version",
    )

    def __init__(self, fleet: Fleet, index: int) -> None:
        rng = random.Random(f"{fleet.seed}:{index}")  # noqa: S311 - a reproducible fleet, not a secret
        self.index = index
        self.agent_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        self.hostname = f"ws-{index:06d}"
        self.machine = fleet.machine_names[index % len(fleet.machine_names)]
        self.platform = fleet.platforms[self.machine]
        self.version = fleetreports.AGENT_VERSIONS[rng.randrange(len(fleetreports.AGENT_VERSIONS))]
        slot = rng.randrange(len(GROUPS) + 1)
        self.group = GROUPS[slot] if slot < len(GROUPS) else None
        self.hints = [hashlib.sha256(f"machine-id:{fleet.seed}:{index}".encode()).hexdigest()]
        self.boot = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.minute = rng.randrange(10, 60)  # its hourly reports come at this minute
        # Enrolled on the first day of the window, during its first ten hours.
        self.enrolled = fleet.start + dt.timedelta(hours=1, minutes=rng.randrange(600))
        draw = rng.random()
        self.lag = rng.randrange(0, 4) if draw < 0.6 else rng.randrange(4, 12) if draw < 0.9 else None
        self.silent_day = (
            fleet.start_day + dt.timedelta(days=rng.randrange(1, fleet.days)) if rng.random() < fleet.silent else None
        )


class Fleet:
    """The simulated fleet: its hosts, their reports, housekeeping's moments, all from the injected clock."""

    def __init__(self, *, now: dt.datetime, hosts: int, days: int, seed: int = 1, silent: float = SILENT_SHARE) -> None:
        self.now = now
        self.hosts = hosts
        self.days = days
        self.seed = seed
        self.silent = silent
        self.start_day = (now - dt.timedelta(days=days)).date()
        self.start = dt.datetime.combine(self.start_day, dt.time(), tzinfo=UTC)
        self.machines = fleetreports.machine_reports(now)
        self.machine_names = sorted(self.machines)
        self.platforms = {name: platform for name, platform, _, _ in fleetreports.MACHINES}
        self._reports: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._verdicts: dict[tuple[Any, ...], tuple[list[dict[str, Any]], Any]] = {}
        self._digests: dict[int, str] = {}
        self._release_days = [self.start_day + dt.timedelta(days=RELEASE_EVERY * r) for r in range(days // 7 + 2)]

    def host(self, index: int) -> SimHost:
        return SimHost(self, index)

    def release_day(self, release: int) -> dt.date:
        return self._release_days[release]

    def report(self, host: SimHost, day: dt.date) -> dict[str, Any]:
        """The host's report of ``day``, shared between hosts; its findings list is shared too between the
        days it does not change (so the emulation can tell an unchanged verdict by identity)."""
        release = (day - self.start_day).days // RELEASE_EVERY
        if host.lag is None:
            installed = 0
        else:
            # Hosts come with release 0; later ones arrive ``lag`` days after each release.
            late = dt.timedelta(days=host.lag)
            installed = max((r for r in range(release + 1) if self.release_day(r) + late <= day), default=0)
        key = (host.machine, host.version, release, installed, day)
        report = self._reports.get(key)
        if report is None:
            report = fleetreports.varied(
                self.machines[host.machine],
                as_of=day,
                release=release,
                release_day=self.release_day(release),
                installed=installed,
                agent_version=host.version,
            )
            verdict = (*key[:4], tuple(finding["status"] for finding in report["findings"]))
            shared = self._verdicts.setdefault(verdict, (report["findings"], report.get("summary")))
            report["findings"], report["summary"] = shared
            self._reports[key] = report
        return report

    def digest(self, report: dict[str, Any]) -> str:
        """The report's content hash (computed once per shared report, and only for those that need it)."""
        key = id(report)
        if key not in self._digests:
            self._digests[key] = fleetreports.content_hash(report)
        return self._digests[key]

    def housekeeping(self) -> list[dt.datetime]:
        """When the daily housekeeping ran, oldest first (after the first host enrolled, up to now)."""
        moments = []
        day = self.start_day + dt.timedelta(days=1)
        while (moment := dt.datetime.combine(day, dt.time(), tzinfo=UTC) + HOUSEKEEPING_AT) <= self.now:
            moments.append(moment)
            day += dt.timedelta(days=1)
        return moments

    def events(self, host: SimHost) -> Iterator[tuple[dt.datetime, str, Any]]:
        """The host's requests, oldest first: ("enroll", None), then each day's first report ("report",
        (report, report_id)), and a last check-in ("check-in", (report, report_id)) at its last hourly report
        (a check-in moves last_seen; those in between change nothing the next one does not)."""
        rng = random.Random(f"{self.seed}:{host.index}:reports")  # noqa: S311 - reproducible, not a secret
        yield host.enrolled, "enroll", None
        day = host.enrolled.date()
        last_day = self.now.date() if host.silent_day is None else min(host.silent_day, self.now.date())
        reported = last_hour = None
        report: dict[str, Any] = {}
        while day <= last_day:
            midnight = dt.datetime.combine(day, dt.time(), tzinfo=UTC)
            first = host.enrolled + dt.timedelta(minutes=1) if day == host.enrolled.date() else None
            first = first or midnight + dt.timedelta(minutes=host.minute)
            if first > self.now:
                break
            report = self.report(host, day)
            yield first, "report", (report, uuid.UUID(int=rng.getrandbits(128), version=4))
            hours = (min(self.now, midnight + dt.timedelta(days=1)) - first) // dt.timedelta(hours=1)
            reported, last_hour = first, first + dt.timedelta(hours=hours)
            day += dt.timedelta(days=1)
        if reported is not None and last_hour is not None and last_hour > reported:
            yield last_hour, "check-in", (report, uuid.UUID(int=rng.getrandbits(128), version=4))


# ------------------------------------------------------------------------------------- the emulation


class Emulated:
    """One host's store rows as ingest and the daily housekeeping leave them, computed in memory."""

    def __init__(self, host: SimHost, host_id: int) -> None:
        self.host = host
        self.id = host_id
        self.states: dict[str, Any] = {}  # rule -> State (ingest's reading of a fleet_rulestate row)
        self.since: dict[str, dt.datetime] = {}
        self.order: dict[str, int] = {}  # rule -> the order its row was inserted in (its id's order)
        self.inserted = 0
        self.changes: list[list[Any]] = []
        self.seen: list[tuple[uuid.UUID, dict[str, Any], dt.datetime]] = []
        self.findings: Any = None  # the findings of the last report applied
        self.status, self.owed_since, self.counts = "none", None, (0, 0, 0)
        self.latest: tuple[dt.datetime, dict[str, Any], uuid.UUID] | None = None
        self.last_seen = host.enrolled
        self.last_changed: dt.datetime | None = None
        self.stale = False

    def report(self, moment: dt.datetime, report: dict[str, Any], report_id: uuid.UUID) -> None:
        self.seen.append((report_id, report, moment))
        self.latest = (moment, report, report_id)
        self.last_seen = self.last_changed = moment
        self.stale = False
        if report["findings"] is self.findings:
            # The same verdict as the last report (only the day moved): the agent's own statuses already
            # reflect its as_of, so a due finding here is before its deadline, and no state changes.
            return
        self.findings = report["findings"]
        today = server_day(moment)
        agent_ahead = report.get("as_of", "") > today.isoformat()
        states = store.rule_states(report, today, self.states, agent_ahead)
        upserts, changes, gone = store.plan_changes(self.id, self.states, states, moment)
        for old in gone:
            del self.states[old.rule], self.since[old.rule], self.order[old.rule]
        for row in upserts:
            rule, status = row[1], row[3]
            old = self.states.get(rule)
            if old is None or old.status != status:
                self.since[rule] = moment
            if old is None:
                self.order[rule] = self.inserted
                self.inserted += 1
            self.states[rule] = store.State((rule, *row[2:7], states[rule]["deadline"]))
        self.changes.extend(changes)
        status, owed, due, unknown = store.summarise([(s["status"], s["severity"]) for s in states.values()])
        self._set_status(status, moment)
        self.counts = (owed, due, unknown)

    def _set_status(self, status: str, moment: dt.datetime) -> None:
        if status != "owed":
            self.owed_since = None
        elif self.status != "owed" or self.owed_since is None:
            self.owed_since = moment
        self.status = status

    def check_in(self, moment: dt.datetime) -> None:
        if moment - self.last_seen > dt.timedelta(minutes=1) or self.stale:
            self.last_seen = moment
            self.stale = False

    def housekeeping(self, moment: dt.datetime, stale_after: dt.timedelta) -> None:
        """The daily run's part for this host: pass deadlines, then mark it stale when silent."""
        passed = []
        if any(state.status == "due" for state in self.states.values()):
            today = server_day(moment)
            passed = [
                rule
                for rule, state in sorted(self.states.items(), key=lambda item: self.order[item[0]])
                if state.status == "due" and state.deadline is not None and state.deadline <= today
            ]
        for rule in passed:
            state = self.states[rule]
            change = [self.id, rule, state.product, "due", "owed", moment, state.deadline]
            self.changes.append([*change, state.installed, state.required, "deadline"])
            state.status, state.deadline = "owed", None
            self.since[rule] = moment
        if passed:
            status, owed, due, unknown = store.summarise([(s.status, s.severity) for s in self.states.values()])
            self._set_status(status, moment)
            self.counts = (owed, due, unknown)
        if not self.stale and self.last_seen < moment - stale_after:
            self.stale = True


class Rollups:
    """The daily and per-rule counts each daily housekeeping wrote, summed over the hosts as they go by."""

    def __init__(self) -> None:
        self.daily: dict[tuple[dt.date, str | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.rules: dict[tuple[dt.date, str | None, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def count(self, day: dt.date, emulated: Emulated) -> None:
        group = emulated.host.group
        row = self.daily[day, group]
        row["hosts"] += 1
        row["stale" if emulated.stale else "reporting"] += 1
        row[emulated.status] += 1
        for rule, state in emulated.states.items():
            self.rules[day, group, rule, state.product][state.status] += 1


def emulate(fleet: Fleet, host: SimHost, host_id: int, rollups: Rollups, moments: list[dt.datetime]) -> Emulated:
    _server()
    stale_after = dt.timedelta(days=14)
    emulated = Emulated(host, host_id)
    events = list(fleet.events(host))
    position = 0
    for moment in [*moments, None]:
        # Every request of the host before this housekeeping run, then the run.
        while position < len(events) and (moment is None or events[position][0] < moment):
            at, kind, payload = events[position]
            if kind == "report":
                emulated.report(at, *payload)
            elif kind == "check-in":
                emulated.check_in(at)
            position += 1
        if moment is not None and moment > host.enrolled:
            emulated.housekeeping(moment, stale_after)
            rollups.count(moment.date(), emulated)
    return emulated


# ---------------------------------------------------------------------------------------- the writing


class Writer:
    """Rows into tables: COPY on PostgreSQL (or multi-row INSERTs, to compare), multi-row INSERTs on
    SQLite; values adapted as Django writes them."""

    def __init__(self, method: str) -> None:
        from django.db import connection

        self.connection = connection
        self.postgresql = connection.vendor == "postgresql"
        self.method = method if self.postgresql else "insert"
        self.rows = 0

    def write(self, table: str, columns: list[str], rows: list[list[Any]]) -> None:
        if not rows:
            return
        self.rows += len(rows)
        with self.connection.cursor() as cursor:
            if self.method == "copy":
                raw = cursor.cursor
                with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            # SQLite takes at most 32,766 parameters in a statement.
            per = max(1, min(1000, 32000 // len(columns)))
            one = "(" + ", ".join(["%s"] * len(columns)) + ")"
            for start in range(0, len(rows), per):
                chunk = rows[start : start + per]
                values = ", ".join([one] * len(chunk))
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"  # noqa: S608 - placeholders only
                cursor.execute(sql, [value for row in chunk for value in row])

    def uuid(self, value: uuid.UUID) -> Any:
        return value if self.postgresql else value.hex

    def moment(self, value: dt.datetime | None) -> Any:
        if value is None:
            return None
        # What Django writes on SQLite (adapt_datetimefield_value): UTC, without the zone, ISO with a space.
        return value if self.postgresql else value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")

    def day(self, value: dt.date | str | None) -> Any:
        if value is None or isinstance(value, str):  # None, or already as SQLite takes it (plan_changes)
            return value
        return value if self.postgresql else value.isoformat()

    def json(self, value: Any) -> Any:
        return json.dumps(value)


HOST_COLUMNS = [
    "id",
    "agent_id",
    "hostname",
    "group_id",
    "run_as",
    "platform",
    "os_id",
    "os_version",
    "agent_version",
    "boot_id",
    "identities",
    "status",
    "owed",
    "due",
    "unknown",
    "owed_since",
    "rules_serial",
    "rules_stale",
    "rules_fallback",
    "content_hash",
    "first_seen",
    "last_seen",
    "last_changed",
    "stale",
    "archived_at",
    "reimaged_at",
    "clone",
    "shared_key",
    "clock_skew",
]
STATE_COLUMNS = ["host_id", "rule", "product", "status", "severity", "installed", "required", "deadline", "since"]
CHANGE_COLUMNS = ["host_id", "rule", "product", "old", "new", "at", "deadline", "installed", "required", "cause"]


def write_host(writer: Writer, fleet: Fleet, emulated: Emulated, groups: dict[str, int], tables: Any) -> None:
    from clientcheck_server.fleet.models import LatestReport

    host = emulated.host
    moment, day = writer.moment, writer.day
    latest = emulated.latest
    report = latest[1] if latest else {}
    os_info, rules = report.get("os", {}), report.get("rules", {})
    owed, due, unknown = emulated.counts
    identities = [{"hints": host.hints, "boot": host.boot, "at": host.enrolled.isoformat(timespec="seconds")}]
    tables["fleet_host"].append(
        [
            emulated.id,
            writer.uuid(host.agent_id),
            host.hostname,
            groups.get(host.group) if host.group else None,
            "machine",
            str(os_info.get("platform", ""))[:16] if latest else host.platform,
            str(os_info.get("id", ""))[:64],
            str(os_info.get("version") or "")[:64],
            host.version,
            host.boot,
            writer.json(identities),
            emulated.status,
            owed,
            due,
            unknown,
            moment(emulated.owed_since),
            rules.get("serial"),
            bool(rules.get("stale")),
            rules.get("fallback_reason") is not None if latest else False,
            fleet.digest(latest[1]) if latest else "",
            moment(host.enrolled),
            moment(emulated.last_seen),
            moment(emulated.last_changed),
            emulated.stale,
            None,
            None,
            False,
            False,
            False,
        ]
    )
    tables["fleet_hosthint"] += [[emulated.id, hint] for hint in host.hints]
    key = host_key(fleet.seed, host.index)
    tables["enrollment_hostkey"].append(
        [hashlib.sha256(key.encode()).hexdigest(), emulated.id, writer.uuid(host.agent_id), moment(host.enrolled), ""]
    )
    if latest is not None:
        at, body, report_id = latest
        document = {**body, "generated_at": fleetreports.stamp(at)}
        tables["fleet_latestreport"].append(
            [
                emulated.id,
                writer.uuid(report_id),
                fleet.digest(body),
                moment(at),
                moment(at),
                moment(at),
                LatestReport.pack(document),
            ]
        )
        if at > fleet.now - dt.timedelta(days=1):  # the rate counter of its last hour, until housekeeping prunes it
            tables["core_ratecounter"].append([f"host:{emulated.id}", moment(emulated.last_seen), 1])
    for rule in sorted(emulated.states, key=emulated.order.__getitem__):
        state = emulated.states[rule]
        row = [emulated.id, rule, state.product, state.status, state.severity, state.installed, state.required]
        tables["fleet_rulestate"].append([*row, day(state.deadline), moment(emulated.since[rule])])
    for change in emulated.changes:
        tables["fleet_statechange"].append([*change[:5], moment(change[5]), day(change[6]), *change[7:]])
    remembered = fleet.now - dt.timedelta(days=30)
    for report_id, body, at in emulated.seen:
        if at >= remembered:
            tables["fleet_seenreport"].append([writer.uuid(report_id), emulated.id, fleet.digest(body), moment(at)])


TABLE_COLUMNS = {
    "fleet_host": HOST_COLUMNS,
    "fleet_hosthint": ["host_id", "hint"],
    "enrollment_hostkey": ["key_hash", "host_id", "agent_id", "created_at", "revoked_reason"],
    "fleet_latestreport": [
        *("host_id", "report_id", "content_hash", "received_at", "generated_at", "effective_at", "body")
    ],
    "core_ratecounter": ["key", "window_start", "count"],
    "fleet_rulestate": STATE_COLUMNS,
    "fleet_statechange": CHANGE_COLUMNS,
    "fleet_seenreport": ["report_id", "host_id", "content_hash", "received_at"],
}


def seed(
    *,
    now: dt.datetime,
    hosts: int,
    days: int = 90,
    seed_value: int = 1,
    silent: float = SILENT_SHARE,
    method: str = "copy",
    batch: int = 2000,
    progress: Any = None,
) -> dict[str, Any]:
    """Write the fleet into the configured database (Django set up, migrated, no hosts yet); what it did."""
    from django.db import connection, transaction

    from clientcheck_server.fleet import housekeeping
    from clientcheck_server.fleet.models import DailyRollup, Group, Host, RuleRollup

    if Host.objects.exists():
        raise SystemExit("seed: this store already has hosts; seed an empty one (it writes host ids of its own)")
    started = time.perf_counter()
    fleet = Fleet(now=now, hosts=hosts, days=days, seed=seed_value, silent=silent)
    groups = {
        name: Group.objects.get_or_create(name=name, defaults={"created_at": fleet.start})[0].pk for name in GROUPS
    }
    moments = fleet.housekeeping()
    rollups = Rollups()
    writer = Writer(method)
    timings = {"emulate": 0.0, "write": 0.0}
    for first in range(0, hosts, batch):
        tick = time.perf_counter()
        tables: dict[str, list[list[Any]]] = defaultdict(list)
        for index in range(first, min(hosts, first + batch)):
            emulated = emulate(fleet, fleet.host(index), index + 1, rollups, moments)
            write_host(writer, fleet, emulated, groups, tables)
        timings["emulate"] += time.perf_counter() - tick
        tick = time.perf_counter()
        with transaction.atomic():
            for table, columns in TABLE_COLUMNS.items():
                writer.write(table, columns, tables.get(table, []))
        timings["write"] += time.perf_counter() - tick
        if progress:
            progress(min(hosts, first + batch))
    tick = time.perf_counter()
    with transaction.atomic():
        statuses = ("ok", "due", "owed", "unknown", "none")
        daily = [
            [writer.day(day), groups.get(group) if group else None, row["hosts"], row["reporting"], row["stale"], 0]
            + [row[status] for status in statuses]
            + [writer.moment(dt.datetime.combine(day, dt.time(), tzinfo=UTC) + HOUSEKEEPING_AT)]
            for (day, group), row in sorted(rollups.daily.items(), key=lambda item: (item[0][0], item[0][1] or ""))
        ]
        writer.write(
            "fleet_dailyrollup",
            ["day", "group_id", "hosts", "reporting", "stale", "archived", *statuses, "at"],
            daily,
        )
        finding_statuses = ("ok", "due", "owed", "unsupported", "restart", "unknown")
        rules = [
            [writer.day(day), groups.get(group) if group else None, rule, product]
            + [writer.moment(dt.datetime.combine(day, dt.time(), tzinfo=UTC) + HOUSEKEEPING_AT)]
            + [row[status] for status in finding_statuses]
            for (day, group, rule, product), row in sorted(
                rollups.rules.items(), key=lambda item: (item[0][0], item[0][1] or "", item[0][2], item[0][3])
            )
        ]
        writer.write("fleet_rulerollup", ["day", "group_id", "rule", "product", "at", *finding_statuses], rules)
        if writer.postgresql:
            with connection.cursor() as cursor:
                cursor.execute("SELECT setval(pg_get_serial_sequence('fleet_host', 'id'), %s)", [max(hosts, 1)])
    timings["rollups"] = time.perf_counter() - tick
    tick = time.perf_counter()
    summary = housekeeping.run(now)  # the real thing, at the injected now: today's rollup, stale, pruning
    timings["housekeeping"] = time.perf_counter() - tick
    if writer.postgresql:
        tick = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        timings["analyze"] = time.perf_counter() - tick
    assert DailyRollup.objects.exists() or hosts == 0
    assert RuleRollup.objects.exists() or hosts == 0
    return {
        "hosts": hosts,
        "rows": writer.rows,
        "seconds": time.perf_counter() - started,
        "timings": timings,
        "method": writer.method,
        "housekeeping": summary,
    }


def setup(data: Path, database: str | None) -> None:
    """Django with the server's own settings for this data folder and database, migrated."""
    from clientcheck_server import conf

    os.environ[conf.DATA_ENV] = str(data.absolute())
    if database:
        os.environ[conf.DATABASE_ENV] = database
    os.environ["DJANGO_SETTINGS_MODULE"] = "clientcheck_server.settings"
    conf.prepare_data_dir(data)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="the server's data folder (default: a new temporary one)")
    parser.add_argument("--database", help="postgresql://… (default: SQLite in the data folder)")
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--now", help="the server's clock, ISO 8601 in UTC (default: now, to the second)")
    parser.add_argument("--seed", type=int, default=1, help="another fleet of the same shape")
    parser.add_argument("--silent", type=float, default=SILENT_SHARE, help="share of hosts that go silent")
    parser.add_argument("--method", choices=("copy", "insert"), default="copy", help="PostgreSQL: COPY or INSERTs")
    parser.add_argument("--batch", type=int, default=2000, help="hosts per transaction")
    parser.add_argument("--keys", type=Path, help="write 'agent_id host_key' per host to this file")
    args = parser.parse_args()
    now = (
        dt.datetime.fromisoformat(args.now.replace("Z", "+00:00")).astimezone(UTC)
        if args.now
        else dt.datetime.now(UTC).replace(microsecond=0)
    )
    data = args.data or Path(tempfile.mkdtemp(prefix="clientcheck-seed-"))
    setup(data, args.database)
    done = seed(
        now=now,
        hosts=args.hosts,
        days=args.days,
        seed_value=args.seed,
        silent=args.silent,
        method=args.method,
        batch=args.batch,
        progress=lambda n: print(f"  {n} hosts", file=sys.stderr, flush=True) if n % 20000 == 0 else None,
    )
    if args.keys:
        fleet_ids = io.StringIO()
        for index in range(args.hosts):
            rng = random.Random(f"{args.seed}:{index}")  # noqa: S311 - the same draw as SimHost's
            agent = uuid.UUID(int=rng.getrandbits(128), version=4)
            fleet_ids.write(f"{agent} {host_key(args.seed, index)}\n")
        args.keys.write_text(fleet_ids.getvalue())
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in done["timings"].items())
    print(
        f"seeded {done['hosts']} hosts, {args.days} days to {fleetreports.stamp(now)}: {done['rows']:,} rows in "
        f"{done['seconds']:.0f} s ({timings}; {done['method']}) into {data}"
        + (f" and {args.database.split('@')[-1]}" if args.database else "")
    )
    print(f"housekeeping at now: {json.dumps(done['housekeeping'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
