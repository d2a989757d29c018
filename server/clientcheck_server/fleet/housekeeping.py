"""The fleet's periodic work, one function for the command and for serve's housekeeper: deadlines pass
on the server's clock (due becomes owed), silent hosts become stale and later archived, history and the
report-id memory are pruned past their retention, today's rollup (per group, per rule) is rewritten
for the dashboard's trend, and alerts are noticed and sent (alerts.digest). The caller holds the
housekeeping lock, so it never runs twice at once."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Count, Q

from clientcheck_server.core.models import HousekeepingRun, RateCounter
from clientcheck_server.fleet.models import (
    DailyRollup,
    FleetSettings,
    Host,
    RuleRollup,
    RuleState,
    SeenReport,
    StateChange,
)
from clientcheck_server.fleet.timekeeping import server_day
from clientcheck_server.ingest.store import set_status, summarise

CHUNK = 1000


def pass_deadlines(now: dt.datetime) -> int:
    """Every due (host, rule) whose deadline is today or earlier (server's day) becomes owed now."""
    today = server_day(now)
    passed = 0
    while True:
        with transaction.atomic():
            states = list(
                RuleState.objects.select_for_update().filter(status="due", deadline__lte=today).order_by("pk")[:CHUNK]
            )
            if not states:
                return passed
            StateChange.objects.bulk_create(
                StateChange(
                    host_id=state.host_id,
                    rule=state.rule,
                    product=state.product,
                    old="due",
                    new="owed",
                    at=now,
                    deadline=state.deadline,
                    installed=state.installed,
                    required=state.required,
                    cause="deadline",
                )
                for state in states
            )
            RuleState.objects.filter(pk__in=[state.pk for state in states]).update(
                status="owed", since=now, deadline=None
            )
            _resummarise({state.host_id for state in states}, now)
            passed += len(states)


def _resummarise(host_ids: set[int], now: dt.datetime) -> None:
    pairs: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for host_id, status, severity in RuleState.objects.filter(host_id__in=host_ids).values_list(
        "host_id", "status", "severity"
    ):
        pairs[host_id].append((status, severity))
    hosts = list(Host.objects.filter(pk__in=host_ids))
    for host in hosts:
        status, host.owed, host.due, host.unknown = summarise(pairs[host.pk])
        set_status(host, status, now)
    Host.objects.bulk_update(hosts, ["status", "owed_since", "owed", "due", "unknown"])


def mark_silent(now: dt.datetime, fleet: FleetSettings) -> tuple[int, int]:
    stale = Host.objects.filter(stale=False, last_seen__lt=now - dt.timedelta(days=fleet.stale_after_days)).update(
        stale=True
    )
    archived = Host.objects.filter(
        archived_at__isnull=True, last_seen__lt=now - dt.timedelta(days=fleet.archive_after_days)
    ).update(archived_at=now)
    return stale, archived


def prune(now: dt.datetime, fleet: FleetSettings) -> dict[str, int]:
    changes, _ = StateChange.objects.filter(at__lt=now - dt.timedelta(days=fleet.history_retention_days)).delete()
    seen, _ = SeenReport.objects.filter(
        received_at__lt=now - dt.timedelta(days=fleet.report_id_retention_days)
    ).delete()
    counters, _ = RateCounter.objects.filter(window_start__lt=now - dt.timedelta(days=1)).delete()
    rollups, _ = DailyRollup.objects.filter(
        day__lt=server_day(now) - dt.timedelta(days=fleet.history_retention_days)
    ).delete()
    RuleRollup.objects.filter(day__lt=server_day(now) - dt.timedelta(days=fleet.history_retention_days)).delete()
    HousekeepingRun.objects.filter(started_at__lt=now - dt.timedelta(days=30)).delete()  # its own log: a month
    return {"state_changes": changes, "report_ids": seen, "rate_counters": counters, "rollup_days": rollups}


def rollup(now: dt.datetime) -> int:
    """Rewrite today's rollup rows (today in the server's time zone) from the current state."""
    today = server_day(now)
    statuses = ("ok", "due", "owed", "unknown", "none")
    # Annotation names must not be field names of Host (due, unknown, stale): counted as n_<column>.
    counts = {
        "hosts": Q(archived_at__isnull=True),
        "reporting": Q(archived_at__isnull=True, stale=False),
        "stale": Q(archived_at__isnull=True, stale=True),
        "archived": Q(archived_at__isnull=False),
        **{status: Q(archived_at__isnull=True, status=status) for status in statuses},
    }
    host_rows = [
        {"group_id": row["group_id"], **{name: row[f"n_{name}"] for name in counts}}
        for row in Host.objects.values("group_id").annotate(
            **{f"n_{name}": Count("id", filter=condition) for name, condition in counts.items()}
        )
    ]
    rule_counts: dict[tuple[int | None, str, str], dict[str, int]] = defaultdict(dict)
    for row in (
        RuleState.objects.filter(host__archived_at__isnull=True)
        .values("host__group_id", "rule", "product", "status")
        .annotate(n=Count("id"))
    ):
        rule_counts[(row["host__group_id"], row["rule"], row["product"])][row["status"]] = row["n"]
    with transaction.atomic():
        DailyRollup.objects.filter(day=today).delete()
        RuleRollup.objects.filter(day=today).delete()
        DailyRollup.objects.bulk_create(
            DailyRollup(day=today, group_id=row.pop("group_id"), at=now, **row) for row in host_rows
        )
        RuleRollup.objects.bulk_create(
            RuleRollup(day=today, group_id=group_id, rule=rule, product=product, at=now, **counts)
            for (group_id, rule, product), counts in rule_counts.items()
        )
    return len(rule_counts)


def run(now: dt.datetime) -> dict[str, Any]:
    fleet = FleetSettings.current()
    record = HousekeepingRun.objects.create(started_at=now)
    summary: dict[str, Any] = {"deadlines_passed": pass_deadlines(now)}
    summary["marked_stale"], summary["archived"] = mark_silent(now, fleet)
    summary["pruned"] = prune(now, fleet)
    summary["rollup_rules"] = rollup(now)
    from clientcheck_server.alerts import digest  # after the rollup: compliance alerts read today's
    from clientcheck_server.dashboard.housekeeping import prune_sessions

    summary["pruned"]["sessions"] = prune_sessions(now)
    summary["alerts"] = digest.run(now)
    from django.utils import timezone

    record.finished_at = timezone.now()
    record.summary = summary
    record.save(update_fields=["finished_at", "summary"])
    return summary
