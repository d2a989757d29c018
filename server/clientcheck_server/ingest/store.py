"""Applying one report to the store, in one transaction: the seen-report memory (idempotency), the latest
report, each (host, rule) state with the server's deadlines, the history of changes, the host's summary.

The ORM does the per-host work here (one host's rows, a few statements); the statements that run on every
report (the seen-report insert, the latest-report upsert) are plain SQL upserts, one round trip each.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import connection, transaction

from clientcheck_server.core.ratelimit import db_time
from clientcheck_server.fleet.models import ABSENT, Host, HostHint, LatestReport, RuleState, SeenReport, StateChange
from clientcheck_server.fleet.timekeeping import effective_time, parse_timestamp, server_day
from clientcheck_server.ingest.envelope import Envelope, RefusedError

STORED = "stored"
CHECK_IN = "check-in"
DUPLICATE = "duplicate"
SUPERSEDED = "superseded"

# Worst first, as the agent orders findings; restart counts as owed (the old code still runs).
_RANK = {"owed": 5, "unsupported": 4, "restart": 3, "due": 2, "unknown": 1, "ok": 0}
_OWING = ("owed", "unsupported", "restart")
# How long the server remembers a report id, and so the oldest a spooled report can be.
DEFAULT_SPOOL_AGE = dt.timedelta(days=30)


def _rule_states(
    report: dict[str, Any], today: dt.date, previous: dict[str, RuleState], agent_ahead: bool
) -> dict[str, dict[str, Any]]:
    """One state per rule: the worst of its findings, with the server's deadlines applied."""
    states: dict[str, dict[str, Any]] = {}
    for finding in report.get("findings", []):
        status = finding["status"]
        deadline = dt.date.fromisoformat(finding["deadline"]) if finding.get("deadline") else None
        if status == "due" and deadline is not None and deadline <= today:
            status = "owed"  # the server's clock passed the deadline (the agent's may be slow)
        old = previous.get(finding["rule"])
        if (
            status == "owed"
            and agent_ahead
            and old is not None
            and old.status == "due"
            and old.deadline is not None
            and old.deadline > today
        ):
            # An agent whose clock runs ahead calls it owed before its deadline: the server's deadline holds.
            status, deadline = "due", old.deadline
        state = {
            "product": finding["product"],
            "status": status,
            "severity": finding["severity"],
            "installed": (finding.get("installed") or "")[:128],
            "required": (finding.get("required") or "")[:128],
            "deadline": deadline if status == "due" else None,
        }
        current = states.get(finding["rule"])
        if current is None or _RANK[status] > _RANK[current["status"]]:
            states[finding["rule"]] = state
        elif status == "due" and current["status"] == "due" and deadline and current["deadline"]:
            current["deadline"] = min(current["deadline"], deadline)
    return states


def summarise(states: list[tuple[str, str]]) -> tuple[str, int, int, int]:
    """A host's status and its owed, due and unknown rule counts, from (status, severity) pairs, by the
    report's own summary rule (owed > due > unknown > ok)."""
    owed = due = unknown = 0
    for status, severity in states:
        if status in _OWING:
            if severity == "required":
                owed += 1
            else:
                due += 1
        elif status == "due":
            due += 1
        elif status == "unknown":
            unknown += 1
    status = "owed" if owed else "due" if due else "unknown" if unknown else "ok"
    return status, owed, due, unknown


_REMEMBER = """
INSERT INTO fleet_seenreport (report_id, host_id, content_hash, received_at) VALUES (%s, %s, %s, %s)
ON CONFLICT (report_id) DO NOTHING
"""

_LATEST = """
INSERT INTO fleet_latestreport (host_id, report_id, content_hash, received_at, generated_at, effective_at, body)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (host_id) DO UPDATE SET report_id = excluded.report_id, content_hash = excluded.content_hash,
    received_at = excluded.received_at, generated_at = excluded.generated_at,
    effective_at = excluded.effective_at, body = excluded.body
"""


def _uuid_param(value: uuid.UUID) -> Any:
    return value if connection.vendor == "postgresql" else value.hex  # how Django stores UUIDs on SQLite


def apply_report(host_id: int, envelope: Envelope, now: dt.datetime, spool_age: dt.timedelta) -> str:
    """Store a changed report of host ``host_id``; the outcome, or RefusedError for a report id that belongs to
    another host or another content. Runs its own durable transaction: committed before it returns."""
    report = envelope.report
    generated = parse_timestamp(report["generated_at"])
    effective, skewed = effective_time(generated, now, spool_age)
    today = server_day(now)
    with transaction.atomic():
        host = Host.objects.select_for_update().get(pk=host_id)
        with connection.cursor() as cursor:
            cursor.execute(_REMEMBER, [_uuid_param(envelope.report_id), host.pk, envelope.content_hash, db_time(now)])
            fresh = cursor.rowcount == 1
        if not fresh:
            seen = SeenReport.objects.filter(pk=envelope.report_id).values_list("host_id", "content_hash").first()
            if seen is None or seen[0] != host.pk:
                raise RefusedError(422, "report_id_conflict", "this report_id belongs to another host")
            if seen[1] != envelope.content_hash:
                raise RefusedError(422, "report_id_conflict", "this report_id was sent before with other content")
            _touch(host, now, envelope)
            return DUPLICATE
        latest = LatestReport.objects.filter(pk=host.pk).only("effective_at").first()
        if latest is not None and effective < latest.effective_at:
            # An older report arriving after a newer one (a delayed retry): remembered, history untouched.
            _touch(host, now, envelope)
            return SUPERSEDED
        with connection.cursor() as cursor:
            cursor.execute(
                _LATEST,
                [
                    host.pk,
                    _uuid_param(envelope.report_id),
                    envelope.content_hash,
                    db_time(now),
                    db_time(generated),
                    db_time(effective),
                    LatestReport.pack(report),
                ],
            )
        agent_ahead = report.get("as_of", "") > today.isoformat()
        previous = {state.rule: state for state in RuleState.objects.filter(host=host)}
        states = _rule_states(report, today, previous, agent_ahead)
        changes: list[StateChange] = []
        created: list[RuleState] = []
        updated: list[RuleState] = []
        for rule, state in states.items():
            old = previous.get(rule)
            if old is None:
                created.append(RuleState(host=host, rule=rule, since=now, **state))
                changes.append(_change(host, rule, ABSENT, state, now))
                continue
            if old.status != state["status"]:
                changes.append(_change(host, rule, old.status, state, now))
                old.since = now
            elif all(getattr(old, name) == value for name, value in state.items()):
                continue
            for name, value in state.items():
                setattr(old, name, value)
            updated.append(old)
        gone = [old for rule, old in previous.items() if rule not in states]
        for old in gone:
            changes.append(
                StateChange(
                    host=host,
                    rule=old.rule,
                    product=old.product,
                    old=old.status,
                    new=ABSENT,
                    at=now,
                    installed=old.installed,
                    required=old.required,
                )
            )
        if gone:
            RuleState.objects.filter(pk__in=[old.pk for old in gone]).delete()
        if created:
            RuleState.objects.bulk_create(created)
        if updated:
            RuleState.objects.bulk_update(
                updated, ["product", "status", "severity", "installed", "required", "deadline", "since"]
            )
        if changes:
            StateChange.objects.bulk_create(changes)
        status, owed, due, unknown = summarise([(s["status"], s["severity"]) for s in states.values()])
        os_info = report.get("os", {})
        rules = report.get("rules", {})
        set_status(host, status, now)
        host.owed, host.due, host.unknown = owed, due, unknown
        host.platform = str(os_info.get("platform", ""))[:16]
        host.os_id = str(os_info.get("id", ""))[:64]
        host.os_version = str(os_info.get("version") or "")[:64]
        host.rules_serial = rules.get("serial")
        host.rules_stale = bool(rules.get("stale"))
        host.rules_fallback = rules.get("fallback_reason") is not None
        host.content_hash = envelope.content_hash
        host.last_changed = now
        host.clock_skew = skewed
        _touch(host, now, envelope, save=False)
        host.save()
    return STORED


def set_status(host: Host, status: str, now: dt.datetime) -> None:
    """A host's status, and since when it owes something (kept while it stays owed)."""
    if status == "owed" and (host.status != "owed" or host.owed_since is None):
        host.owed_since = now
    elif status != "owed":
        host.owed_since = None
    host.status = status


def _change(host: Host, rule: str, old: str, state: dict[str, Any], now: dt.datetime) -> StateChange:
    return StateChange(
        host=host,
        rule=rule,
        product=state["product"],
        old=old,
        new=state["status"],
        at=now,
        deadline=state["deadline"],
        installed=state["installed"],
        required=state["required"],
    )


def _touch(host: Host, now: dt.datetime, envelope: Envelope, *, save: bool = True) -> None:
    """What any accepted report says of its host: seen now, its name, its agent version; back from stale
    or archived."""
    host.last_seen = now
    host.stale = False
    host.archived_at = None
    host.hostname = envelope.hostname
    host.agent_version = envelope.agent_version
    host.run_as = envelope.run_as
    if save:
        host.save(update_fields=["last_seen", "stale", "archived_at", "hostname", "agent_version", "run_as"])


def replace_hints(host: Host, hints: list[str]) -> None:
    HostHint.objects.filter(host=host).exclude(hint__in=hints).delete()
    existing = set(HostHint.objects.filter(host=host).values_list("hint", flat=True))
    HostHint.objects.bulk_create([HostHint(host=host, hint=hint) for hint in hints if hint not in existing])
