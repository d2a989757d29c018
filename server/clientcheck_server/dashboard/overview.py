"""The numbers the overview shows, within a user's scope, at a cost that does not grow with history: the
host totals are one aggregate over the hosts; counts by rule and by product and the trend come from the
daily rollups housekeeping keeps (a few thousand rows at 100,000 hosts), not from millions of rule states."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from clientcheck_server.dashboard.access import Scope
from clientcheck_server.fleet.models import FINDING_STATUSES, DailyRollup, Host, RuleRollup, RuleState
from clientcheck_server.fleet.timekeeping import server_day

OWING = ("owed", "unsupported", "restart")


@dataclass
class Totals:
    hosts: int = 0  # not archived
    reporting: int = 0
    stale: int = 0
    archived: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    rules_stale: int = 0
    rules_fallback: int = 0
    clone: int = 0
    shared_key: int = 0
    clock_skew: int = 0
    # The rule files hosts were judged by: {"serial", "hosts"} per serial, newest first (not archived).
    serials: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reported(self) -> int:
        return self.hosts - self.by_status.get("none", 0)

    @property
    def compliant_percent(self) -> float | None:
        """Of the hosts that sent a report, the share with nothing owed, due or unknown (as the API's)."""
        return round(100.0 * self.by_status.get("ok", 0) / self.reported, 1) if self.reported else None


HOST_STATUS_NAMES = ("owed", "due", "unknown", "ok", "none")
FLAGS = ("stale", "rules_stale", "rules_fallback", "clone", "shared_key", "clock_skew")


def totals(scope: Scope) -> Totals:
    """The host counts and the rule files in use, from one pass over the hosts: grouped by serial (a
    handful of groups), summed here. Two aggregates (the counts, then the serials) read the whole hosts
    table twice, the overview's largest cost at 100,000 hosts."""
    active = Q(archived_at__isnull=True)
    counts: dict[str, Any] = {
        "n_hosts": Count("id", filter=active),
        "n_archived": Count("id", filter=Q(archived_at__isnull=False)),
        **{f"n_{flag}": Count("id", filter=active & Q(**{flag: True})) for flag in FLAGS},
        **{f"s_{status}": Count("id", filter=active & Q(status=status)) for status in HOST_STATUS_NAMES},
    }
    rows = list(scope.scoped(Host.objects.all()).values("rules_serial").annotate(**counts).order_by("-rules_serial"))

    def total(name: str) -> int:
        return sum(row[name] for row in rows)

    hosts, stale = total("n_hosts"), total("n_stale")
    return Totals(
        hosts=hosts,
        reporting=hosts - stale,
        stale=stale,
        archived=total("n_archived"),
        by_status={status: total(f"s_{status}") for status in HOST_STATUS_NAMES},
        rules_stale=total("n_rules_stale"),
        rules_fallback=total("n_rules_fallback"),
        clone=total("n_clone"),
        shared_key=total("n_shared_key"),
        clock_skew=total("n_clock_skew"),
        serials=[
            {"serial": row["rules_serial"], "hosts": row["n_hosts"]}
            for row in rows
            if row["rules_serial"] is not None and row["n_hosts"]
        ],
    )


@dataclass
class Counts:
    by_rule: list[dict[str, Any]]
    by_product: list[dict[str, Any]]
    at: dt.datetime  # as of when
    from_rollup: bool


def _fresh() -> dt.timedelta:
    return dt.timedelta(seconds=max(2 * settings.CONFIG.housekeeping_interval, 600))


def fresh_rollup(now: dt.datetime | None = None) -> tuple[dt.date, dt.datetime] | None:
    """The day and time of the newest rule rollup, when housekeeping made it lately enough to be read as now."""
    newest = RuleRollup.objects.order_by("-day", "-at").values_list("day", "at").first()
    if newest is None or newest[1] is None or newest[1] < (now or timezone.now()) - _fresh():
        return None
    return newest[0], newest[1]


def counts(scope: Scope, *, now: dt.datetime | None = None) -> Counts:
    """Hosts in each finding status by rule and by product: from today's rollup when housekeeping keeps it
    fresh, else counted now (a small fleet, or housekeeping off)."""
    now = now or timezone.now()
    newest = fresh_rollup(now)
    rows: list[tuple[str, str, dict[str, int]]] = []
    if newest is not None:
        at, from_rollup = newest[1], True
        rollups = scope.scoped(RuleRollup.objects.filter(day=newest[0]))
        for item in rollups.values("rule", "product", *FINDING_STATUSES):
            rows.append((item["rule"], item["product"], {s: item[s] for s in FINDING_STATUSES}))
    else:
        at, from_rollup = now, False
        states = scope.scoped(RuleState.objects.filter(host__archived_at__isnull=True), "host__")
        for item in states.values("rule", "product", "status").annotate(n=Count("id")):
            rows.append((item["rule"], item["product"], {item["status"]: item["n"]}))
    by_rule: dict[str, dict[str, Any]] = {}
    by_product: dict[str, dict[str, Any]] = {}
    for rule, product, numbers in rows:
        for key, table, name in ((rule, by_rule, "rule"), (product, by_product, "product")):
            entry = table.setdefault(key, {name: key, "hosts": 0, **dict.fromkeys(FINDING_STATUSES, 0)})
            for status, count in numbers.items():
                entry[status] += count
                entry["hosts"] += count
    for table in (by_rule, by_product):
        for entry in table.values():
            entry["owing"] = sum(entry[s] for s in OWING)

    def order(entry: dict[str, Any]) -> tuple[int, int, str]:
        return (-entry["owing"], -entry["due"], entry.get("rule") or entry.get("product") or "")

    return Counts(sorted(by_rule.values(), key=order), sorted(by_product.values(), key=order), at, from_rollup)


@dataclass
class TrendPoint:
    day: dt.date
    hosts: int
    ok: int
    due: int
    owed: int
    unknown: int
    none: int
    stale: int

    @property
    def compliant_percent(self) -> float | None:
        reported = self.hosts - self.none
        return round(100.0 * self.ok / reported, 1) if reported else None


def trend(scope: Scope, days: int, *, now: dt.datetime | None = None) -> tuple[dt.date, dt.date, list[TrendPoint]]:
    """The daily rollup of the last ``days`` days (today included), summed over the groups in scope."""
    today = server_day(now or timezone.now())
    first = today - dt.timedelta(days=days - 1)
    names = ("hosts", "ok", "due", "owed", "unknown", "none", "stale")
    rows = (
        scope.scoped(DailyRollup.objects.filter(day__gte=first, day__lte=today))
        .values("day")
        .annotate(**{f"t_{name}": Sum(name) for name in names})
        .order_by("day")
    )
    return first, today, [TrendPoint(row["day"], *(row[f"t_{name}"] or 0 for name in names)) for row in rows]


def rule_trend(
    scope: Scope, rule: str, days: int, *, now: dt.datetime | None = None
) -> tuple[dt.date, dt.date, list[dict[str, Any]]]:
    today = server_day(now or timezone.now())
    first = today - dt.timedelta(days=days - 1)
    rows = (
        scope.scoped(RuleRollup.objects.filter(rule=rule, day__gte=first, day__lte=today))
        .values("day")
        .annotate(**{f"t_{s}": Sum(s) for s in FINDING_STATUSES})
        .order_by("day")
    )
    return first, today, [{"day": row["day"], **{s: row[f"t_{s}"] or 0 for s in FINDING_STATUSES}} for row in rows]
