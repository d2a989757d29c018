"""An Ansible local fact (``/etc/ansible/facts.d/clientcheck.fact``): compact JSON that Ansible shows as
``ansible_local.clientcheck``, so a play can act on ``ansible_local.clientcheck.status``.

Smaller than the JSON report: what a play branches on, not everything the report says.
"""

from __future__ import annotations

from clientcheck import dates as dt
from clientcheck.model import STATUS_ORDER
from clientcheck.render.json import dumps

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
    fact: dict[str, Any] = {
        "status": report.status,
        "owed": owed,
        "counts": {status: report.count(status) for status in STATUS_ORDER},
        "rules": {"serial": report.rules.serial, "source": report.rules.source, "stale": report.rules.stale},
        "os": _os(report.inventory.os),
        "generated_at": _timestamp(report.generated_at),
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
    return dumps({"os": _os(inventory.os), "software": software, "generated_at": _timestamp(generated_at)})
