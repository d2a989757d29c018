"""Prometheus metrics of the server itself. Under ``serve`` every worker process writes its counters to
files in a folder of the data folder (prometheus_client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR set
by serve before any worker starts), and ``/metrics`` adds them up; the fleet gauges (hosts by status) are
read from the database at each scrape, so every server process answers the same."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REPORTS = Counter(
    "clientcheck_server_reports",
    "Reports received, by outcome: stored, check-in, duplicate, superseded, or the reason for refusing.",
    ["outcome"],
)
ENROLLMENTS = Counter(
    "clientcheck_server_enrollments",
    "Enrollment attempts, by outcome: enrolled, reimaged, clone, or the reason for refusing.",
    ["outcome"],
)
INGEST_SECONDS = Histogram(
    "clientcheck_server_ingest_seconds",
    "Time to answer an accepted report inside the server, by kind (report: a changed report; check-in).",
    ["kind"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


class FleetCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count

        from clientcheck_server.fleet.models import Host

        hosts = GaugeMetricFamily(
            "clientcheck_server_hosts",
            "Hosts not archived, by status (ok, due, unknown, owed; none: no report yet) and staleness.",
            labels=["status", "stale"],
        )
        rows = Host.objects.filter(archived_at__isnull=True).values("status", "stale").annotate(n=Count("id"))
        for row in rows:
            hosts.add_metric([row["status"], "true" if row["stale"] else "false"], row["n"])
        yield hosts
        archived = GaugeMetricFamily("clientcheck_server_hosts_archived", "Archived hosts.")
        archived.add_metric([], Host.objects.filter(archived_at__isnull=False).count())
        yield archived
