"""Where a report's time goes inside clientcheck-server: each step of the ingest path, in-process (no HTTP,
no client), on the database given, with durable commits. Prints microseconds per step and the rate one
core would sustain. Not a load test (bench's load simulator is that); it shows which step to make faster.

    python bench/collector_profile.py --database postgresql://postgres@127.0.0.1:55432/bench
    python bench/collector_profile.py            # SQLite in a temporary folder
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


class _Counter:
    """Counts the statements a step sends to the database."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def _timed(label: str, count: int, step: Any, results: dict[str, float]) -> None:
    """Wall time (this process and the database, and any waiting) and this process's CPU time per step: on a
    busy machine the wall time varies with the neighbours; the CPU time is the server's own cost."""
    from django.db import connection

    times, cpu = [], []
    counter = _Counter()
    with connection.execute_wrapper(counter):
        for index in range(count):
            started, started_cpu = time.perf_counter(), time.process_time()
            step(index)
            cpu.append(time.process_time() - started_cpu)
            times.append(time.perf_counter() - started)
    median = statistics.median(times)
    results[label] = median
    print(
        f"{label:<44} wall {median * 1e6:7.0f} us  cpu {statistics.mean(cpu) * 1e6:7.0f} us"
        f"  {counter.count / count:4.1f} statements"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="", help="postgresql://… (default: SQLite in a temporary folder)")
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--count", type=int, default=1000, help="requests per step")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="clientcheck-profile-"))
    (data / "server.toml").write_text('secret_key = "profile"\n')
    os.environ["CLIENTCHECK_SERVER_DATA"] = str(data)
    if args.database:
        os.environ["CLIENTCHECK_SERVER_DATABASE"] = args.database
    os.environ["DJANGO_SETTINGS_MODULE"] = "clientcheck_server.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import RequestFactory
    from django.utils import timezone

    from clientcheck_server.core import credentials, ratelimit
    from clientcheck_server.enrollment.models import EnrollmentSecret, HostKey
    from clientcheck_server.enrollment.service import enroll
    from clientcheck_server.ingest import store
    from clientcheck_server.ingest.api.views import reports
    from clientcheck_server.ingest.envelope import Envelope, content_hash, parse_json
    from clientcheck_server.ingest.schema import check_report

    call_command("migrate", verbosity=0)
    sys.path.insert(0, str(REPO / "server"))
    from servertest import real_report, with_finding

    now = timezone.now()
    value = credentials.new(credentials.SECRET)
    secret = EnrollmentSecret.objects.create(
        prefix=credentials.prefix(value), key_hash=credentials.digest(value), created_at=now, created_by="profile"
    )
    hosts = [
        enroll(
            secret,
            agent_id=uuid.uuid4(),
            hostname=f"ws-{i}",
            hints=[],
            boot_id="",
            run_as="machine",
            agent_version="0.1.0",
            platform="linux",
            now=now,
        )
        for i in range(args.hosts)
    ]
    base = real_report()
    versions = [
        with_finding(base, "chrome", installed=f"131.0.{v}", status="owed" if v % 2 else "ok") for v in range(4)
    ]
    factory = RequestFactory()

    def body(index: int, report: dict[str, Any]) -> tuple[Any, bytes]:
        enrolled = hosts[index % len(hosts)]
        document = {
            "envelope": "clientcheck.envelope/1",
            "report_id": str(uuid.uuid4()),
            "agent_id": str(enrolled.host.agent_id),
            "content_hash": content_hash(report),
            "hostname": enrolled.host.hostname,
            "hints": [],
            "boot_id": "",
            "agent_version": "0.1.0",
            "run_as": "machine",
            "report": report,
        }
        return enrolled, json.dumps(document).encode()

    results: dict[str, float] = {}
    print(f"database: {connection.vendor}, {args.hosts} hosts, report {len(json.dumps(base))} bytes")
    sample = body(0, versions[0])[1]
    _timed("parse the body (json.loads)", args.count, lambda i: parse_json(sample), results)
    _timed("envelope checks and canonical hash", args.count, lambda i: Envelope(parse_json(sample)), results)
    _timed("schema validation (fastjsonschema)", args.count, lambda i: check_report(base), results)
    key = hosts[0].key
    _timed(
        "host key look-up (ORM, select_related)",
        args.count,
        lambda i: HostKey.objects.select_related("host").filter(key_hash=credentials.digest(key)).first(),
        results,
    )

    def rate(i: int, durable: bool) -> None:
        with transaction.atomic():
            if not durable and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            ratelimit.hit(f"host:{i % len(hosts)}", now=timezone.now(), window=store.DEFAULT_SPOOL_AGE, limit=10**9)

    _timed("rate counter upsert, durable commit", args.count, lambda i: rate(i, True), results)
    _timed("rate counter upsert, asynchronous commit", args.count, lambda i: rate(i, False), results)
    prepared = [body(i, versions[(i // len(hosts)) % 4]) for i in range(args.count)]
    _timed(
        "apply a changed report (one transaction)",
        args.count,
        lambda i: store.apply_report(
            prepared[i][0].host.pk, Envelope(parse_json(prepared[i][1])), timezone.now(), store.DEFAULT_SPOOL_AGE
        ),
        results,
    )

    def request(i: int, report: dict[str, Any]) -> None:
        enrolled, payload = body(i, report)
        answer = reports(
            factory.post(
                "/api/v1/reports", payload, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {enrolled.key}"
            )
        )
        assert answer.status_code == 202, answer.content

    changed = [versions[(i // len(hosts) + 1) % 4] for i in range(args.count)]
    _timed("whole view: a changed report", args.count, lambda i: request(i, changed[i]), results)
    last = {i % len(hosts): changed[i] for i in range(args.count)}
    _timed(
        "whole view: an unchanged report (check-in)", args.count, lambda i: request(i, last[i % len(hosts)]), results
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
