"""Applying one report to the store, in one transaction: the seen-report memory (idempotency), the latest
report, each (host, rule) state with the server's deadlines, the history of changes, the host's summary.

This is the one path every changed report takes, so it is plain SQL (upserts and multi-row inserts, a fixed
number of statements per report), not the ORM: see apply_report.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from typing import Any

from django.db import connection, transaction

from clientcheck_server.core.ratelimit import db_time
from clientcheck_server.fleet.models import ABSENT, Host, HostHint, LatestReport
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


def rule_states(
    report: dict[str, Any], today: dt.date, previous: dict[str, Any], agent_ahead: bool
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


def moment(value: Any) -> dt.datetime:
    """A timestamp column read with plain SQL: a datetime on PostgreSQL, text on SQLite."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    moment: dt.datetime = value
    return moment


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class State:
    """A row of fleet_rulestate as the plain-SQL path reads it (the fields rule_states looks at)."""

    __slots__ = ("deadline", "installed", "product", "required", "rule", "severity", "status")

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.rule, self.product, self.status, self.severity, self.installed, self.required = row[:6]
        self.deadline = _date(row[6])

    def same(self, state: dict[str, Any]) -> bool:
        return all(getattr(self, name) == value for name, value in state.items())


# With the fleet's report-id retention (how old a spooled report can be), so that takes no statement of its own.
_LOCK_HOST = (
    "SELECT status, owed_since, (SELECT report_id_retention_days FROM fleet_fleetsettings WHERE id = 1)"
    " FROM fleet_host WHERE id = %s"
)
_SEEN = "SELECT host_id, content_hash FROM fleet_seenreport WHERE report_id = %s"
_LATEST_TIME = "SELECT effective_at FROM fleet_latestreport WHERE host_id = %s"
_STATES = (
    "SELECT rule, product, status, severity, installed, required, deadline FROM fleet_rulestate WHERE host_id = %s"
)
_TOUCH = (
    "UPDATE fleet_host SET last_seen = %s, stale = %s, archived_at = NULL, hostname = %s, agent_version = %s,"
    " run_as = %s WHERE id = %s"
)
_HOST = (
    "UPDATE fleet_host SET status = %s, owed_since = %s, owed = %s, due = %s, unknown = %s, platform = %s,"
    " os_id = %s, os_version = %s, rules_serial = %s, rules_stale = %s, rules_fallback = %s, content_hash = %s,"
    " last_changed = %s, clock_skew = %s, last_seen = %s, stale = %s, archived_at = NULL, hostname = %s,"
    " agent_version = %s, run_as = %s WHERE id = %s"
)
_STATE_COLUMNS = "host_id, rule, product, status, severity, installed, required, deadline, since"
# Only "%s" placeholders are ever formatted into these statements (_values), never data: S608 does not apply.
_UPSERT_STATES = (
    f"INSERT INTO fleet_rulestate ({_STATE_COLUMNS}) VALUES {{rows}} ON CONFLICT (host_id, rule) DO UPDATE SET"  # noqa: S608
    " product = excluded.product, status = excluded.status, severity = excluded.severity,"
    " installed = excluded.installed, required = excluded.required, deadline = excluded.deadline,"
    " since = CASE WHEN fleet_rulestate.status = excluded.status THEN fleet_rulestate.since ELSE excluded.since END"
)
_CHANGE_COLUMNS = "host_id, rule, product, old, new, at, deadline, installed, required, cause"


def _values(rows: list[list[Any]]) -> tuple[str, list[Any]]:
    """A multi-row VALUES list and its flat parameters: one statement for many rows."""
    width = len(rows[0])
    one = "(" + ", ".join(["%s"] * width) + ")"
    return ", ".join([one] * len(rows)), [value for row in rows for value in row]


def plan_changes(
    host_id: int, previous: dict[str, Any], states: dict[str, dict[str, Any]], at: Any
) -> tuple[list[list[Any]], list[list[Any]], list[Any]]:
    """What a report changes, given the host's rule states before it (``previous``, by rule, as State reads
    them) and the states of the report (rule_states): the fleet_rulestate rows to upsert, the
    fleet_statechange rows to insert (in this order), and the old states of rules the report no longer has.
    Pure, so bench/seed.py writes exactly what ingest writes."""
    upserts: list[list[Any]] = []
    changes: list[list[Any]] = []
    for rule, state in states.items():
        old = previous.get(rule)
        if old is not None and old.same(state):
            continue
        deadline = connection.ops.adapt_datefield_value(state["deadline"])
        upserts.append(
            [
                host_id,
                rule,
                state["product"],
                state["status"],
                state["severity"],
                state["installed"],
                state["required"],
                deadline,
                at,
            ]
        )
        if old is None or old.status != state["status"]:
            changes.append(
                [
                    host_id,
                    rule,
                    state["product"],
                    old.status if old else ABSENT,
                    state["status"],
                    at,
                    deadline,
                    state["installed"],
                    state["required"],
                    "report",
                ]
            )
    gone = [old for rule, old in previous.items() if rule not in states]
    for old in gone:
        changes.append(
            [host_id, old.rule, old.product, old.status, ABSENT, at, None, old.installed, old.required, "report"]
        )
    return upserts, changes, gone


def _pipeline() -> Any:
    """PostgreSQL: statements sent together, without waiting for each answer (psycopg's pipeline mode); their
    results are in their cursors when the block ends. Elsewhere (SQLite, in-process) nothing to save."""
    if connection.vendor == "postgresql":
        return connection.connection.pipeline()
    return contextlib.nullcontext()


def apply_report(host_id: int, envelope: Envelope, now: dt.datetime, spool_age: dt.timedelta | None = None) -> str:
    """Store a changed report of host ``host_id``; the outcome, or RefusedError for a report id that belongs to
    another host or another content. Runs its own durable transaction: committed before it returns.
    ``spool_age``: how old a spooled report can be (default: the fleet's report_id_retention_days).

    Plain SQL, about eight statements whatever the report's size: measured here, each ORM query on this
    path cost over a millisecond of the server's CPU (building the query, making model instances) against
    about a tenth of that for the same statement in plain SQL (docs/server.md, "Ingest speed"). On PostgreSQL
    they go in three round trips (psycopg's pipeline mode): the lock, then the reads that follow it, then
    every write; waiting on each statement's answer in turn was most of a report's time under load
    (bench/loadsim.py profiled with py-spy). The statements and their order are the same either way."""
    report = envelope.report
    generated = parse_timestamp(report["generated_at"])
    today = server_day(now)
    at = db_time(now)
    touch = [at, False, envelope.hostname, envelope.agent_version, envelope.run_as, host_id]
    report_id = _uuid_param(envelope.report_id)
    with transaction.atomic():
        # The host's row is the lock that orders its reports, whichever server process takes them: the reads
        # after it (queued behind it in the pipeline) see what the reports before this one wrote.
        with (
            connection.cursor() as lock,
            connection.cursor() as remember,
            connection.cursor() as latest_time,
            connection.cursor() as current,
        ):
            with _pipeline():
                lock.execute(
                    _LOCK_HOST + (" FOR UPDATE" if connection.features.has_select_for_update else ""), [host_id]
                )
                remember.execute(_REMEMBER, [report_id, host_id, envelope.content_hash, at])
                latest_time.execute(_LATEST_TIME, [host_id])
                current.execute(_STATES, [host_id])
            locked = lock.fetchone()
            if locked is None:
                raise RefusedError(422, "unknown_host", "this host was deleted meanwhile")
            old_status, owed_since, retention = locked
            if spool_age is None:
                spool_age = dt.timedelta(days=retention if retention is not None else DEFAULT_SPOOL_AGE.days)
            effective, skewed = effective_time(generated, now, spool_age)
            if remember.rowcount != 1:
                lock.execute(_SEEN, [report_id])
                seen = lock.fetchone()
                if seen is None or seen[0] != host_id:
                    raise RefusedError(422, "report_id_conflict", "this report_id belongs to another host")
                if seen[1] != envelope.content_hash:
                    raise RefusedError(422, "report_id_conflict", "this report_id was sent before with other content")
                lock.execute(_TOUCH, touch)
                return DUPLICATE
            latest = latest_time.fetchone()
            if latest is not None and effective < moment(latest[0]):
                # An older report arriving after a newer one (a delayed retry): remembered, history untouched.
                lock.execute(_TOUCH, touch)
                return SUPERSEDED
            previous = {row[0]: State(row) for row in current.fetchall()}
        agent_ahead = report.get("as_of", "") > today.isoformat()
        states = rule_states(report, today, previous, agent_ahead)
        upserts, changes, gone = plan_changes(host_id, previous, states, at)
        status, owed, due, unknown = summarise([(s["status"], s["severity"]) for s in states.values()])
        if status != "owed":
            owed_since = None
        elif old_status != "owed" or owed_since is None:
            owed_since = at
        os_info = report.get("os", {})
        rules = report.get("rules", {})
        with _pipeline(), connection.cursor() as cursor:
            cursor.execute(
                _LATEST,
                [
                    host_id,
                    report_id,
                    envelope.content_hash,
                    at,
                    db_time(generated),
                    db_time(effective),
                    LatestReport.pack(report),
                ],
            )
            if gone:
                marks = ", ".join(["%s"] * len(gone))
                cursor.execute(
                    f"DELETE FROM fleet_rulestate WHERE host_id = %s AND rule IN ({marks})",  # noqa: S608
                    [host_id, *(old.rule for old in gone)],
                )
            if upserts:
                rows, params = _values(upserts)
                cursor.execute(_UPSERT_STATES.format(rows=rows), params)
            if changes:
                rows, params = _values(changes)
                cursor.execute(f"INSERT INTO fleet_statechange ({_CHANGE_COLUMNS}) VALUES {rows}", params)  # noqa: S608
            cursor.execute(
                _HOST,
                [
                    status,
                    owed_since,
                    owed,
                    due,
                    unknown,
                    str(os_info.get("platform", ""))[:16],
                    str(os_info.get("id", ""))[:64],
                    str(os_info.get("version") or "")[:64],
                    rules.get("serial"),
                    bool(rules.get("stale")),
                    rules.get("fallback_reason") is not None,
                    envelope.content_hash,
                    at,
                    skewed,
                    *touch,
                ],
            )
    return STORED


def set_status(host: Host, status: str, now: dt.datetime) -> None:
    """A host's status, and since when it owes something (kept while it stays owed)."""
    if status == "owed" and (host.status != "owed" or host.owed_since is None):
        host.owed_since = now
    elif status != "owed":
        host.owed_since = None
    host.status = status


def replace_hints(host_id: int, hints: list[str]) -> None:
    HostHint.objects.filter(host_id=host_id).exclude(hint__in=hints).delete()
    existing = set(HostHint.objects.filter(host_id=host_id).values_list("hint", flat=True))
    HostHint.objects.bulk_create([HostHint(host_id=host_id, hint=hint) for hint in hints if hint not in existing])
