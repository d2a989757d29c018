"""Hosts, states and changes as the API writes them (JSON, and the same fields flattened for CSV).
Moments are UTC, ``YYYY-MM-DDTHH:MM:SSZ``; dates ``YYYY-MM-DD``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from clientcheck_server.fleet.models import Host, RuleState, StateChange


def moment(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def host(item: Host) -> dict[str, Any]:
    return {
        "id": item.pk,
        "agent_id": str(item.agent_id),
        "hostname": item.hostname,
        "group": item.group.name if item.group_id is not None and item.group is not None else None,
        "run_as": item.run_as,
        "platform": item.platform or None,
        "os": {"id": item.os_id or None, "version": item.os_version or None},
        "agent_version": item.agent_version or None,
        "status": item.status,
        "owed_since": moment(item.owed_since),
        "owed": item.owed,
        "due": item.due,
        "unknown": item.unknown,
        "rules": {"serial": item.rules_serial, "stale": item.rules_stale, "fallback": item.rules_fallback},
        "first_seen": moment(item.first_seen),
        "last_seen": moment(item.last_seen),
        "last_changed": moment(item.last_changed),
        "stale": item.stale,
        "archived_at": moment(item.archived_at),
        "reimaged_at": moment(item.reimaged_at),
        "flags": {"clone": item.clone, "shared_key": item.shared_key, "clock_skew": item.clock_skew},
    }


HOST_COLUMNS = [
    "id",
    "hostname",
    "group",
    "status",
    "owed_since",
    "owed",
    "due",
    "unknown",
    "platform",
    "os_id",
    "os_version",
    "agent_version",
    "rules_serial",
    "rules_stale",
    "first_seen",
    "last_seen",
    "stale",
    "archived_at",
    "clone",
    "shared_key",
    "clock_skew",
    "agent_id",
]


def host_row(item: Host) -> list[object]:
    data = host(item)
    return [
        data["id"],
        data["hostname"],
        data["group"],
        data["status"],
        data["owed_since"],
        data["owed"],
        data["due"],
        data["unknown"],
        data["platform"],
        data["os"]["id"],
        data["os"]["version"],
        data["agent_version"],
        data["rules"]["serial"],
        data["rules"]["stale"],
        data["first_seen"],
        data["last_seen"],
        data["stale"],
        data["archived_at"],
        data["flags"]["clone"],
        data["flags"]["shared_key"],
        data["flags"]["clock_skew"],
        data["agent_id"],
    ]


def rule_state(item: RuleState) -> dict[str, Any]:
    return {
        "rule": item.rule,
        "product": item.product,
        "status": item.status,
        "severity": item.severity,
        "installed": item.installed or None,
        "required": item.required or None,
        "deadline": day(item.deadline),
        "since": moment(item.since),
    }


RULE_STATE_COLUMNS = ["status", "severity", "product", "installed", "required", "deadline", "since"]


def change(item: StateChange) -> dict[str, Any]:
    return {
        "rule": item.rule,
        "product": item.product,
        "old": item.old,
        "new": item.new,
        "at": moment(item.at),
        "deadline": day(item.deadline),
        "installed": item.installed or None,
        "required": item.required or None,
        "cause": item.cause,
    }
