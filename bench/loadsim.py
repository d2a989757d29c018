"""Load simulator for clientcheck-server: simulated hosts enroll and ship the fixture machines' reports to a
real ``clientcheck-server serve`` on 127.0.0.1, on SQLite and on a PostgreSQL (durable commits) this script
starts itself, with the load generator beside the server.

Phases, per database:

1. login storm: every simulated host enrolls and ships its first report, all at once (bounded by
   ``--connections``): enrollments/s and first reports/s.
2. sustained, repeated ``--repeat`` times, interleaved: new (changed) reports/s, then the *floor endpoint*
   (bench/floorbench: json.loads, one INSERT, one UPDATE, raw SQL, durable) on a second server of the same
   workers and database, then unchanged check-ins/s; closed loops of ``--concurrency`` connections.
3. fixed offered rate: changed reports at ``--rate`` per second (open loop: a late answer does not delay
   the next request), latency from the moment each request was due: p50/p99.
4. outage: hosts that were offline come back together, each with a full spool (``--spool`` hourly reports,
   the oldest first, one at a time, waiting Retry-After on 429/503 as an agent must); checked afterwards:
   every spooled report answered 202 once, and each host's latest report is its newest.
5. bytes stored per host in the tables ingest writes, indexes included.

Also ``pg_test_fsync``'s fdatasync figure for the disk the databases are on. Figures are medians of the
repetitions with their range; the load average is printed beside them (the machine is shared).

    .venv/bin/python bench/loadsim.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/loadsim.py --database postgresql --repeat 5 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "server"))  # servertest: the server tests' PostgreSQL and serve helpers
sys.path.insert(0, str(BENCH))

import fleetreports  # noqa: E402
from servertest import PG_BIN, Postgres, Server, clean_env, free_port  # noqa: E402

GENERATED = b"@@GENERATED_AT@@"
VARIANTS = 16  # changed reports a host cycles through (each differs from the one before)
# The tables ingest writes (and housekeeping's rollups): what a host costs the store.
STORE_TABLES = (
    "fleet_host",
    "fleet_hosthint",
    "fleet_latestreport",
    "fleet_rulestate",
    "fleet_statechange",
    "fleet_seenreport",
    "fleet_dailyrollup",
    "fleet_rulerollup",
    "enrollment_hostkey",
    "core_ratecounter",
)


# ------------------------------------------------------------------------------------------------ HTTP


class Connection:
    """One keep-alive HTTP/1.1 connection: the cheapest client asyncio allows, so that the load generator,
    which shares the machine's two cores with the server, costs as little of them as it can."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes, key: str | None = None) -> tuple[int, dict[str, str], bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n" + (f"Authorization: Bearer {key}\r\n" if key else "") + "\r\n"
        ).encode()
        for attempt in (0, 1):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            assert self.reader is not None
            try:
                self.writer.write(head + body)
                block = await self.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                # A keep-alive connection the server closed while idle: once more on a new one (a report is
                # idempotent by its report_id, and nothing was answered).
                self.close()
                if attempt:
                    raise
                continue
            lines = block.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            if headers.get("transfer-encoding", "").lower() == "chunked":
                data = await self._chunks()
            else:
                data = await self.reader.readexactly(int(headers.get("content-length", "0")))
            if headers.get("connection", "").lower() == "close":
                self.close()
            return status, headers, data
        raise AssertionError("unreachable")

    async def _chunks(self) -> bytes:
        """A chunked body (Django's answers carry no Content-Length: uvicorn sends them in chunks)."""
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")  # no trailers are sent: the empty line
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size + 2))
            parts[-1] = parts[-1][:-2]


class Pool:
    def __init__(self, port: int) -> None:
        self.port = port
        self.free: list[Connection] = []

    @contextlib.asynccontextmanager
    async def connection(self) -> Any:
        item = self.free.pop() if self.free else Connection(self.port)
        try:
            yield item
        finally:
            self.free.append(item)

    def close(self) -> None:
        for item in self.free:
            item.close()
        self.free.clear()


# ------------------------------------------------------------------------------------------------- CPU


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _cpu(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


class Meter:
    """CPU seconds used by the server's processes, the database's and this load generator: on a machine
    shared with other work, what a request costs is steadier than how many come through."""

    def __init__(self, server: int, database: int | None) -> None:
        self.server, self.database = server, database

    def snapshot(self) -> tuple[float, float, float]:
        database = _cpu(_descendants(self.database)) if self.database else 0.0
        return _cpu(_descendants(self.server)), database, time.process_time()

    @staticmethod
    def per_request(before: tuple[float, float, float], after: tuple[float, float, float], count: int) -> tuple:
        return tuple((b - a) / max(count, 1) for a, b in zip(before, after, strict=True))


# ----------------------------------------------------------------------------------------------- hosts


class Variants:
    """Each fixture machine's report in VARIANTS changed versions per agent version, serialised once with a
    placeholder for generated_at (outside the content hash), so a request costs the generator a join."""

    def __init__(self, now: dt.datetime) -> None:
        self.machines = fleetreports.machine_reports(now)
        today = now.date()
        self.bodies: dict[tuple[str, str], list[tuple[bytes, bytes]]] = {}
        for name, base in self.machines.items():
            for version in fleetreports.AGENT_VERSIONS:
                ring = []
                for index in range(VARIANTS):
                    report = fleetreports.varied(
                        base,
                        as_of=today,
                        release=1,
                        release_day=today - dt.timedelta(days=2),
                        installed=index % 2,
                        agent_version=version,
                        patch=index,
                    )
                    report["generated_at"] = GENERATED.decode()
                    ring.append((json.dumps(report).encode(), fleetreports.content_hash(report).encode()))
                self.bodies[name, version] = ring

    def sizes(self) -> list[int]:
        return [len(text) for ring in self.bodies.values() for text, _ in ring]


class Host:
    __slots__ = ("agent_id", "busy", "first", "hostname", "key", "machine", "prefix", "variant", "version")

    def __init__(self, index: int, machine: str, run: str) -> None:
        self.agent_id = str(uuid.uuid4())
        self.hostname = f"{run}-ws-{index:05d}"
        self.machine = machine
        self.version = fleetreports.AGENT_VERSIONS[index % len(fleetreports.AGENT_VERSIONS)]
        self.variant = 0
        self.key = ""
        self.busy = False  # a request of this host is in flight: its next one waits (reports stay in order)
        self.first = dt.datetime.now(dt.timezone.utc)  # when its first report was made
        hints = [hashlib.sha256(f"machine-id:{self.hostname}".encode()).hexdigest()]
        envelope = {
            "envelope": "clientcheck.envelope/1",
            "agent_id": self.agent_id,
            "hostname": self.hostname,
            "hints": hints,
            "boot_id": str(uuid.uuid4()),
            "agent_version": self.version,
            "run_as": "machine",
        }
        self.prefix = json.dumps(envelope)[:-1].encode() + b', "report_id": "'

    def enrollment(self, secret: str) -> bytes:
        envelope = json.loads(self.prefix[: -len(b', "report_id": "')] + b"}")
        platform = {"linux": "linux", "macos": "macos", "windows": "windows"}
        machine_platform = next(m[1] for m in fleetreports.MACHINES if m[0] == self.machine)
        return json.dumps(
            {
                "secret": secret,
                "agent_id": self.agent_id,
                "hostname": self.hostname,
                "hints": envelope["hints"],
                "boot_id": envelope["boot_id"],
                "platform": platform[machine_platform],
                "agent_version": self.version,
                "run_as": "machine",
            }
        ).encode()

    def body(self, variants: Variants, variant: int, generated: str, report_id: str | None = None) -> bytes:
        text, digest = variants.bodies[self.machine, self.version][variant % VARIANTS]
        return b"".join(
            (
                self.prefix,
                (report_id or str(uuid.uuid4())).encode(),
                b'", "content_hash": "',
                digest,
                b'", "report": ',
                text.replace(GENERATED, generated.encode()),
                b"}",
            )
        )


def now_stamp() -> str:
    return fleetreports.stamp(dt.datetime.now(dt.timezone.utc))


# ------------------------------------------------------------------------------------------- workloads


class Tally:
    def __init__(self, name: str) -> None:
        self.name = name
        self.outcomes: dict[str, int] = {}
        self.latencies: list[float] = []
        self.seconds = 0.0
        self.cpu: tuple[float, ...] = ()  # CPU seconds per request: server, database, load generator

    def add(self, status: int, body: bytes, latency: float) -> str:
        if status in (200, 202):
            outcome = json.loads(body).get("outcome", "ok") if body else "ok"
        else:
            try:
                outcome = f"{status} {json.loads(body).get('error')}"
            except ValueError:
                outcome = str(status)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        self.latencies.append(latency)
        return outcome

    def rate(self, outcome: str) -> float:
        return self.outcomes.get(outcome, 0) / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def closed_loop(
    pool: Pool, tally: Tally, seconds: float, concurrency: int, make: Any, path: str, auth: bool = True
) -> Tally:
    """``concurrency`` connections, each sending the next request as soon as the last is answered."""
    deadline = time.perf_counter() + seconds
    counter = iter(range(1 << 62))

    async def worker() -> None:
        async with pool.connection() as connection:
            while time.perf_counter() < deadline:
                host, body = make(next(counter))
                host.busy = True
                started = time.perf_counter()
                try:
                    status, _, data = await connection.post(path, body, host.key if auth else None)
                finally:
                    host.busy = False
                tally.add(status, data, time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    tally.seconds = time.perf_counter() - started
    return tally


async def open_loop(pool: Pool, tally: Tally, seconds: float, rate: float, make: Any, path: str) -> Tally:
    """Requests at a fixed offered rate, each timed from the moment it was due (a slow answer shows as the
    latency of the requests behind it too, not as a lower rate: no coordinated omission)."""
    count = int(seconds * rate)
    start = time.perf_counter() + 0.05
    tasks = []

    async def one(index: int, due: float) -> None:
        host, body = make(index)
        host.busy = True
        try:
            async with pool.connection() as connection:
                status, _, data = await connection.post(path, body, host.key)
        finally:
            host.busy = False
        tally.add(status, data, time.perf_counter() - due)

    for index in range(count):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*tasks)
    tally.seconds = time.perf_counter() - start
    return tally


async def until_answered(
    connection: Connection, path: str, body: bytes, key: str | None, tally: Tally
) -> tuple[int, bytes, int]:
    """What an agent does (docs/collector-protocol.md): wait Retry-After on 429 and 503, back off with full
    jitter on a lost connection, and send the same body again. The answer, and how many times it waited."""
    backoff, waits = 1.0, 0
    while True:
        started = time.perf_counter()
        try:
            status, headers, data = await connection.post(path, body, key)
        except (ConnectionError, asyncio.IncompleteReadError):
            connection.close()
            waits += 1
            await asyncio.sleep(random.uniform(0, backoff))  # noqa: S311 - full jitter
            backoff = min(backoff * 2, 60)
            continue
        tally.add(status, data, time.perf_counter() - started)
        if status not in (429, 503):
            return status, data, waits
        waits += 1
        await asyncio.sleep(int(headers.get("retry-after", "30")))


async def login_storm(
    pool: Pool, hosts: list[Host], variants: Variants, secret: str, connections: int
) -> tuple[Tally, Tally, int]:
    """Every host enrolls, then ships its first report, all at once (``connections`` at a time), each
    waiting Retry-After when the server sheds load."""
    enrolled, first = Tally("enroll"), Tally("first reports")
    gate = asyncio.Semaphore(connections)
    waits = 0

    async def one(host: Host) -> None:
        nonlocal waits
        async with gate, pool.connection() as connection:
            status, data, waited = await until_answered(
                connection, "/api/v1/enroll", host.enrollment(secret), None, enrolled
            )
            waits += waited
            if status != 200:
                return
            host.key = json.loads(data)["host_key"]
            body = host.body(variants, 0, fleetreports.stamp(host.first))
            waits += (await until_answered(connection, "/api/v1/reports", body, host.key, first))[2]

    started = time.perf_counter()
    await asyncio.gather(*(one(host) for host in hosts))
    enrolled.seconds = first.seconds = time.perf_counter() - started
    return enrolled, first, waits


async def outage(
    pool: Pool, hosts: list[Host], variants: Variants, spool: int, connections: int
) -> tuple[Tally, dict[str, str], int]:
    """Hosts back after ``spool`` hours offline: each ships its spool (hourly reports; ``as_of`` changes each
    day, and the browser's patch every few days) oldest first, one at a time, waiting Retry-After on 429
    and 503 and backing off on a lost connection, as docs/collector-protocol.md asks of an agent."""
    tally = Tally("outage")
    newest: dict[str, str] = {}
    gate = asyncio.Semaphore(connections)
    waits = 0
    back = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    async def one(host: Host) -> None:
        nonlocal waits
        items = []
        for hour in range(spool, 0, -1):
            made = back - dt.timedelta(hours=hour)
            # A report's content: its day (as_of is in the report) and the browser's patch of that week.
            variant = (made.toordinal() - back.toordinal() + 100) // 3
            items.append((str(uuid.uuid4()), made, variant))
        # The report the store keeps as latest: the newest that changed (the rest of its day are check-ins).
        keys = [(variant, made.date()) for _, made, variant in items]
        changed = [i for i in range(len(items)) if i == 0 or keys[i] != keys[i - 1]]
        newest[host.agent_id] = items[changed[-1]][0]
        async with gate, pool.connection() as connection:
            for report_id, made, variant in items:
                body = outage_body(host, variants, variant, made, report_id)
                status, data, waited = await until_answered(connection, "/api/v1/reports", body, host.key, tally)
                waits += waited
                if status != 202:
                    raise AssertionError(f"outage: {status} {data[:200]!r}")

    started = time.perf_counter()
    await asyncio.gather(*(one(host) for host in hosts))
    tally.seconds = time.perf_counter() - started
    return tally, newest, waits


_DAY_REPORTS: dict[tuple[str, str, int, dt.date], tuple[bytes, bytes]] = {}


def outage_body(host: Host, variants: Variants, variant: int, made: dt.datetime, report_id: str) -> bytes:
    """A spooled report judged at ``made``: that day's as_of, the browser's patch of that week."""
    key = (host.machine, host.version, variant, made.date())
    if key not in _DAY_REPORTS:
        report = fleetreports.varied(
            variants.machines[host.machine],
            as_of=made.date(),
            release=1,
            release_day=made.date() - dt.timedelta(days=30),
            installed=1,
            agent_version=host.version,
            patch=variant,
        )
        report["generated_at"] = GENERATED.decode()
        _DAY_REPORTS[key] = (json.dumps(report).encode(), fleetreports.content_hash(report).encode())
    text, digest = _DAY_REPORTS[key]
    return b"".join(
        (
            host.prefix,
            report_id.encode(),
            b'", "content_hash": "',
            digest,
            b'", "report": ',
            text.replace(GENERATED, fleetreports.stamp(made).encode()),
            b"}",
        )
    )


# -------------------------------------------------------------------------------------------- servers


class FloorServer(Server):
    """serve with the bench's settings (bench/floorbench): the same command, workers and database, plus the
    floor endpoint."""

    def __init__(self, data: Path, *, database: str, workers: int) -> None:
        self.data = data
        self.database = database
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data.parent / f"floor-{self.port}.log"
        command = [
            sys.executable,
            str(BENCH / "floorbench"),
            "--data",
            str(data),
            "--database",
            database,
            "serve",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--no-housekeeping",
        ]
        self.stream = open(self.log, "w+", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            env=clean_env(),
            stdout=self.stream,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def pg_test_fsync(folder: Path) -> float | None:
    """fdatasync calls per second for one 8 kB write, as pg_test_fsync measures them on this disk."""
    tool = PG_BIN / "pg_test_fsync"
    if not tool.exists():
        return None
    done = subprocess.run(
        [str(tool), "-s", "3", "-f", str(folder / "pg_test_fsync.out")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    match = re.search(r"one 8kB write.*?fdatasync\s+([\d,.]+) ops/sec", done.stdout, re.S)
    return float(match.group(1).replace(",", "")) if match else None


def psql(postgres: Postgres, database: str, *statements: str) -> list[list[str]]:
    """Rows of the last statement, by psql (-At), on the bench's PostgreSQL."""
    command = [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres"]
    command += ["-d", database.rsplit("/", 1)[1], "-At", "-F", " "]
    for statement in statements:
        command += ["-c", statement]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return [line.split() for line in done.stdout.splitlines() if line and line != "VACUUM"]


def stored_bytes(database: str, data: Path, postgres: Postgres | None) -> dict[str, int]:
    """Bytes of each table ingest writes, with its indexes (and TOAST on PostgreSQL)."""
    if postgres is not None:
        tables = ", ".join(f"'{t}'" for t in STORE_TABLES)
        sql = f"SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname IN ({tables})"  # noqa: S608
        rows = psql(postgres, database, "VACUUM ANALYZE", sql)
        return {table: int(size) for table, size in rows}
    import sqlite3

    connection = sqlite3.connect(data / "clientcheck.sqlite3")
    try:
        sizes: dict[str, int] = {}
        names = dict(
            connection.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')").fetchall()
        )
        for name, size in connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = names.get(name, name)
            if table in STORE_TABLES:
                sizes[table] = sizes.get(table, 0) + size
        return sizes
    finally:
        connection.close()


def host_count(database: str, data: Path, postgres: Postgres | None) -> int:
    if postgres is not None:
        return int(psql(postgres, database, "SELECT count(*) FROM fleet_host")[0][0])
    import sqlite3

    connection = sqlite3.connect(data / "clientcheck.sqlite3")
    try:
        return int(connection.execute("SELECT count(*) FROM fleet_host").fetchone()[0])
    finally:
        connection.close()


def latest_ids(database: str, data: Path, postgres: Postgres | None) -> dict[str, str]:
    """agent id -> the report id of its latest report, read from the store."""
    sql = "SELECT h.agent_id, l.report_id FROM fleet_host h JOIN fleet_latestreport l ON l.host_id = h.id"
    if postgres is not None:
        return {row[0]: row[1] for row in psql(postgres, database, sql)}
    import sqlite3

    connection = sqlite3.connect(data / "clientcheck.sqlite3")
    try:
        return {str(uuid.UUID(a)): str(uuid.UUID(r)) for a, r in connection.execute(sql)}
    finally:
        connection.close()


# ------------------------------------------------------------------------------------------------ run


def spread(values: list[float], unit: str = "", scale: float = 1.0, digits: int = 0) -> str:
    if not values:
        return "-"
    scaled = [value * scale for value in values]
    median = statistics.median(scaled)
    return f"{median:,.{digits}f}{unit} ({min(scaled):,.{digits}f}-{max(scaled):,.{digits}f}, n={len(values)})"


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


async def simulate(args: argparse.Namespace, kind: str, root: Path, postgres: Postgres | None) -> dict[str, Any]:
    results: dict[str, Any] = {"database": kind, "load": [load_average()]}
    data = root / f"{kind}-data"
    database = postgres.database() if postgres is not None else f"sqlite://{data / 'clientcheck.sqlite3'}"
    server = Server(
        data,
        database=database if postgres is not None else None,
        workers=args.workers,
        args=("--no-housekeeping",),
    ).wait_ready(timeout=180)
    secret = server.secret()
    floor = FloorServer(root / f"{kind}-floor", database=database, workers=args.workers).wait_ready(timeout=180)
    try:
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        variants = Variants(now)
        sizes = variants.sizes()
        results["report_bytes"] = (min(sizes), int(statistics.median(sizes)), max(sizes))
        names = list(variants.machines)
        run = uuid.uuid4().hex[:6]
        hosts = [Host(index, names[index % len(names)], run) for index in range(args.hosts)]
        spooled = [Host(args.hosts + index, names[index % len(names)], run) for index in range(args.spool_hosts)]
        for host in spooled:  # they reported once before going offline for the length of their spool
            host.first = now - dt.timedelta(hours=args.spool + 1)
        pool, floor_pool = Pool(server.port), Pool(floor.port)

        results["storm"] = await login_storm(pool, hosts + spooled, variants, secret, args.connections)
        enrolled = results["storm"][0]
        pool.close()
        if any(not host.key for host in hosts + spooled):
            raise AssertionError(f"enrollment failed: {enrolled.outcomes}")

        turn = iter(range(1 << 62))

        def next_host() -> Host:
            """The hosts in turn, skipping one whose last request is still unanswered: a host never has two
            in flight, so its reports arrive in the order they were made (as from one agent's spool)."""
            while True:
                host = hosts[next(turn) % len(hosts)]
                if not host.busy:
                    return host

        def new_report(index: int) -> tuple[Host, bytes]:
            host = next_host()
            host.variant += 1
            return host, host.body(variants, host.variant, now_stamp())

        def floor_report(index: int) -> tuple[Host, bytes]:
            # The same bodies as new_report's, without moving the host on (the real server never sees them).
            host = next_host()
            return host, host.body(variants, host.variant + 1, now_stamp())

        def check_in(index: int) -> tuple[Host, bytes]:
            host = next_host()
            return host, host.body(variants, host.variant, now_stamp())

        for name in ("new", "floor", "check-in", "fixed"):
            results[name] = []
        database_pid = None
        if postgres is not None:
            database_pid = int((postgres.data / "postmaster.pid").read_text().split()[0])
        meters = {"real": Meter(server.process.pid, database_pid), "floor": Meter(floor.process.pid, database_pid)}

        async def metered(meter: str, phase: Any) -> Tally:
            before = meters[meter].snapshot()
            tally = await phase
            tally.cpu = Meter.per_request(before, meters[meter].snapshot(), len(tally.latencies))
            return tally

        for repetition in range(args.repeat):
            results["load"].append(load_average())
            results["new"].append(
                await metered(
                    "real",
                    closed_loop(pool, Tally("new"), args.seconds, args.concurrency, new_report, "/api/v1/reports"),
                )
            )
            floor_phase = closed_loop(
                floor_pool, Tally("floor"), args.seconds, args.concurrency, floor_report, "/bench/floor", auth=False
            )
            results["floor"].append(await metered("floor", floor_phase))
            results["check-in"].append(
                await metered(
                    "real",
                    closed_loop(pool, Tally("check-in"), args.seconds, args.concurrency, check_in, "/api/v1/reports"),
                )
            )
            print(
                f"  {kind} #{repetition + 1}: new {results['new'][-1].rate('stored'):.0f}/s, floor "
                f"{results['floor'][-1].rate('ok'):.0f}/s, check-ins {results['check-in'][-1].rate('check-in'):.0f}/s"
                f" (load {load_average()})",
                flush=True,
            )
        for repetition in range(args.repeat):
            results["load"].append(load_average())
            results["fixed"].append(
                await open_loop(pool, Tally("fixed"), args.fixed_seconds, args.rate, new_report, "/api/v1/reports")
            )
            tally = results["fixed"][-1]
            print(
                f"  {kind} fixed #{repetition + 1}: p50 {tally.percentile(0.5) * 1e3:.1f} ms, "
                f"p99 {tally.percentile(0.99) * 1e3:.1f} ms {tally.outcomes}",
                flush=True,
            )
        pool.close()
        if args.spool_hosts:
            results["load"].append(load_average())
            tally, newest, waits = await outage(pool, spooled, variants, args.spool, args.connections)
            latest = latest_ids(database, data, postgres)
            wrong = [agent for agent, report_id in newest.items() if latest.get(agent) != report_id]
            accepted = sum(n for outcome, n in tally.outcomes.items() if outcome[0].isalpha())
            results["outage"] = (tally, waits, wrong, accepted, len(spooled) * args.spool)
        pool.close()
        floor_pool.close()
        results["hosts"] = host_count(database, data, postgres)
        results["bytes"] = stored_bytes(database, data, postgres)
    finally:
        floor.stop()
        server.stop()
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    kind = results["database"]
    enrolled, first, storm_waits = results["storm"]
    print(f"\n== {kind}: {args.workers} workers, {args.hosts} hosts, closed loops of {args.concurrency} connections")
    low, median, high = results["report_bytes"]
    print(f"report bodies: {low}-{high} bytes, median {median} (the fixture machines' reports, varied)")
    print(
        f"login storm: {enrolled.outcomes.get('ok', 0)} hosts enroll and ship at once "
        f"({args.connections} connections): "
        f"{enrolled.outcomes.get('ok', 0) / enrolled.seconds:.0f} enrollments/s with first reports, "
        f"enroll p50 {enrolled.percentile(0.5) * 1e3:.0f} ms p99 {enrolled.percentile(0.99) * 1e3:.0f} ms, first "
        f"report p50 {first.percentile(0.5) * 1e3:.0f} ms p99 {first.percentile(0.99) * 1e3:.0f} ms; "
        f"{storm_waits} waits for Retry-After; answers {enrolled.outcomes} {first.outcomes}"
    )
    new = [tally.rate("stored") for tally in results["new"]]
    floor = [tally.rate("ok") for tally in results["floor"]]
    ratios = [a / b for a, b in zip(new, floor, strict=True) if b]
    checkins = [tally.rate("check-in") for tally in results["check-in"]]
    print(f"new reports/s accepted (sustained, {args.seconds:g} s each): {spread(new)}")
    print(f"floor endpoint/s, same run:                 {spread(floor)}")
    print(f"new reports / floor, pairwise:              {spread(ratios, digits=2)}")
    print(f"unchanged check-ins/s:                      {spread(checkins)}")
    for name in ("new", "floor", "check-in"):
        cpu = [tally.cpu for tally in results[name] if tally.cpu]
        if cpu:
            parts = [statistics.median(c[i] for c in cpu) * 1e3 for i in range(3)]
            print(
                f"  {name}: CPU per request {sum(parts):.2f} ms (server {parts[0]:.2f}, database {parts[1]:.2f}, "
                f"load generator {parts[2]:.2f}): {2 / sum(parts) * 1e3:,.0f}/s would fill two idle cores"
            )
    for name in ("new", "floor", "check-in"):
        others: dict[str, int] = {}
        for tally in results[name]:
            for outcome, count in tally.outcomes.items():
                others[outcome] = others.get(outcome, 0) + count
        print(f"  {name} answers: {others}")
    fixed = results["fixed"]
    print(
        f"at {args.rate:g} reports/s offered ({args.fixed_seconds:g} s each): p50 "
        f"{spread([t.percentile(0.5) for t in fixed], ' ms', 1e3, 1)}, p99 "
        f"{spread([t.percentile(0.99) for t in fixed], ' ms', 1e3, 1)}; answers "
        f"{[t.outcomes for t in fixed]}"
    )
    if "outage" in results:
        tally, waits, wrong, accepted, spooled = results["outage"]
        print(
            f"outage: {args.spool_hosts} hosts back at once with {args.spool} spooled reports each: "
            f"{accepted} of {spooled} answered 202 in {tally.seconds:.0f} s ({accepted / tally.seconds:.0f}/s), "
            f"{waits} waits (Retry-After or backoff), answers {tally.outcomes}, accepted p50 "
            f"{tally.percentile(0.5) * 1e3:.0f} ms p99 {tally.percentile(0.99) * 1e3:.0f} ms; hosts whose latest "
            f"report is not their newest changed one: {len(wrong)}"
        )
    total = sum(results["bytes"].values())
    print(
        f"stored: {total:,} bytes for {results['hosts']} hosts, {total / results['hosts']:,.0f} bytes per host "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(results['bytes'].items()))})"
    )
    print(f"load average during the run: {', '.join(results['load'])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--hosts", type=int, default=3000, help="simulated hosts in the sustained phases")
    parser.add_argument("--workers", type=int, default=0, help="serve's workers (default: serve's own, 2 per CPU)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections of the closed loops")
    parser.add_argument("--connections", type=int, default=256, help="connections of the storm and the outage")
    parser.add_argument("--seconds", type=float, default=15, help="length of each sustained phase")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rate", type=float, default=100, help="offered reports/s of the fixed-rate phase")
    parser.add_argument("--fixed-seconds", type=float, default=20)
    parser.add_argument("--spool-hosts", type=int, default=200, help="hosts coming back after an outage")
    parser.add_argument("--spool", type=int, default=100, help="reports in each of their spools (the cap: 100)")
    args = parser.parse_args()
    args.workers = args.workers or max(2, 2 * (os.cpu_count() or 1))
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, {memory()}; load average {load_average()}", flush=True)
    root = Path(tempfile.mkdtemp(prefix="clientcheck-loadsim-"))
    postgres = None
    try:
        kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
        if "postgresql" in kinds:
            # Its own folder under /tmp: the cluster belongs to the postgres user, who cannot enter ours.
            postgres = Postgres(Path(tempfile.mkdtemp(prefix="clientcheck-loadsim-pg-")))
            postgres.start()
            fsync = pg_test_fsync(postgres.root)
            print(f"pg_test_fsync on this disk: {fsync:,.0f} fdatasync/s (one 8 kB write)", flush=True)
        for kind in kinds:
            results = asyncio.run(simulate(args, kind, root, postgres if kind == "postgresql" else None))
            report(results, args)
    finally:
        if postgres is not None:
            postgres.stop()
            shutil.rmtree(postgres.root, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
    return 0


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def memory() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown memory"


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
