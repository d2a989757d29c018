"""An Ansible local fact (``/etc/ansible/facts.d/clientcheck.fact``): compact JSON that Ansible shows as
``ansible_local.clientcheck``, so a play can act on ``ansible_local.clientcheck.status``.

Smaller than the JSON report: what a play branches on, not everything the report says.
"""

from __future__ import annotations

from clientcheck import dates as dt
from clientcheck.model import STATUS_ORDER, days_left
from clientcheck.render.json import dumps, unreadable_dict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from clientcheck.model import Inventory, OSInfo, Report
    from clientcheck.version import Version


def _version(value: Version | None) -> str | None:
    return str(value) if value is not None else None


def _timestamp(value: dt.datetime) -> str:
    # The same form as the JSON report's generated_at, so the two can be compared as strings.
    return value.astimezone(dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _os(os_info: OSInfo) -> dict[str, Any]:
    return {"id": os_info.id, "version": _version(os_info.version)}


def render_report(report: Report) -> str:
    # "owed" is what makes `clientcheck check` exit 1: required updates owed or out of support.
    owed = [
        {"product": f.product, "installed": _version(f.installed), "required": _version(f.required), "rule": f.rule}
        for f in report.findings
        if f.blocking
    ]
    # In grace: by when each is owed (the machine's own date), and the stepped warning in force.
    due = [
        {
            "product": f.product,
            "installed": _version(f.installed),
            "required": _version(f.required),
            "rule": f.rule,
            "deadline": f.deadline.isoformat() if f.deadline else None,
            "days_left": days_left(f, report.as_of),
            "step": f.step,
        }
        for f in report.findings
        if f.status == "due"
    ]
    rules = report.rules
    fact: dict[str, Any] = {
        "status": report.status,
        "owed": owed,
        "due": due,
        "counts": {status: report.count(status) for status in STATUS_ORDER},
        "rules": {
            "serial": rules.serial,
            "source": rules.source,
            "stale": rules.stale,
            "fallback_reason": rules.fallback_reason,  # null unless the rules asked for could not be used
            "published_in_future": rules.published_in_future,  # the clock is wrong, or the file is bogus
        },
        "os": _os(report.inventory.os),
        "generated_at": _timestamp(report.generated_at),
        # Places that could not be read and may hide an installation (status is then "unknown").
        "unreadable": [unreadable_dict(item) for item in report.inventory.unreadable],
    }
    return dumps(fact)


def render_inventory(inventory: Inventory, generated_at: dt.datetime) -> str:
    software = [
        {
            "product": item.product,
            "name": item.name,
            "version": _version(item.version),
            "track": item.track,
            "scope": item.scope,
        }
        for item in inventory.software
    ]
    unreadable = [unreadable_dict(item) for item in inventory.unreadable]
    return dumps(
        {
            "os": _os(inventory.os),
            "software": software,
            "generated_at": _timestamp(generated_at),
            "unreadable": unreadable,
        }
    )
