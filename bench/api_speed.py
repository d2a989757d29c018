"""The read API at fleet scale: a store seeded by bench/seed.py (100,000 hosts, 90 days of history by
default), a real ``clientcheck-server serve`` on it, and the time to the last byte of the summary and of
host-list pages (the first page, filters, a page deep in the list), each requested ``--runs`` times in turn:
p50 and p95 per call. Measured by a client on 127.0.0.1 beside the server: the time from sending the request
to reading the answer's last byte, which on the loopback is the server's time plus a few tens of
microseconds.

    .venv/bin/python bench/api_speed.py --database postgresql            # seeds a PostgreSQL of its own
    .venv/bin/python bench/api_speed.py --database sqlite --hosts 20000
    .venv/bin/python bench/api_speed.py --data DIR [--database URL]      # a store seeded before (--no-seed)
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "server"))

from servertest import Postgres, Server, cli  # noqa: E402

sys.path.insert(0, str(BENCH))
from loadsim import host_count, stored_bytes  # noqa: E402

CALLS = (
    "/api/v1/summary",
    "/api/v1/hosts",
    "/api/v1/hosts?status=owed",
    "/api/v1/hosts?group=Sales&status=owed,due",
    "/api/v1/hosts?stale=true",
    "/api/v1/hosts?rule=chrome&rule_status=owed",
    "/api/v1/hosts?search=ws-0999",  # 100 of 100,000 hosts
    "/api/v1/hosts?after=90000",
    "/api/v1/hosts?limit=1000",
    "/api/v1/rules",
)


def timed(port: int, path: str, token: str) -> tuple[float, int, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.connect()
        started = time.perf_counter()
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        body = response.read()
        return time.perf_counter() - started, response.status, len(body)
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql", help="postgresql (started here), sqlite, or a URL")
    parser.add_argument("--data", type=Path, help="a data folder (with --no-seed: seeded before)")
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--hosts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
    root = Path(tempfile.mkdtemp(prefix="clientcheck-api-speed-"))
    postgres = None
    try:
        database = None
        if args.database == "postgresql":
            postgres = Postgres(Path(tempfile.mkdtemp(prefix="clientcheck-api-speed-pg-")))
            postgres.start()
            database = postgres.database()
        elif args.database != "sqlite":
            database = args.database
        data = args.data or root / "data"
        if not args.no_seed:
            command = [sys.executable, str(BENCH / "seed.py"), "--data", str(data), "--hosts", str(args.hosts)]
            command += ["--days", str(args.days)] + (["--database", database] if database else [])
            subprocess.run(command, check=True)
        sizes_on_disk = stored_bytes(database or "", data, postgres if database else None)
        hosts = host_count(database or "", data, postgres if database else None)
        token = cli(data, "token", "create", database=database).stdout.strip()
        options = ("--no-housekeeping",) if not args.workers else ("--no-housekeeping", "--workers", str(args.workers))
        server = Server(data, database=database, workers=args.workers or 4, args=options).wait_ready(timeout=300)
        try:
            for path in CALLS:  # once each first: connections made, caches warm, as on a server that runs
                timed(server.port, path, token)
            times: dict[str, list[float]] = {path: [] for path in CALLS}
            sizes: dict[str, int] = {}
            for _ in range(args.runs):
                for path in CALLS:
                    seconds, status, size = timed(server.port, path, token)
                    if status != 200:
                        raise AssertionError(f"{path}: {status}")
                    times[path].append(seconds)
                    sizes[path] = size
        finally:
            server.stop()
        kind = "PostgreSQL" if database else "SQLite"
        print(f"{kind}, {args.hosts:,} hosts, {args.days} days; {args.runs} runs of each call, in turn")
        for path in CALLS:
            ordered = sorted(times[path])
            p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
            print(
                f"  {path:<48} p50 {statistics.median(ordered) * 1e3:7.1f} ms  p95 {p95 * 1e3:7.1f} ms"
                f"  ({sizes[path]:,} bytes)"
            )
        total = sum(sizes_on_disk.values())
        print(
            f"stored: {total:,} bytes for {hosts:,} hosts, {total / max(hosts, 1):,.0f} bytes per host, indexes"
            f" included ({', '.join(f'{k} {v / max(hosts, 1):,.0f}' for k, v in sorted(sizes_on_disk.items()))})"
        )
        print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    finally:
        if postgres is not None:
            postgres.stop()
            shutil.rmtree(postgres.root, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
