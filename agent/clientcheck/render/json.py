"""The JSON report (``clientcheck.report/1``) and inventory (``clientcheck.inventory/1``).

Their schemas are published in the package's ``data/`` folder; keys are only ever added, never renamed or removed.
"""

from __future__ import annotations

from clientcheck import __version__
from clientcheck import dates as dt
from clientcheck.model import STATUS_ORDER, days_left

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from clientcheck.model import (
        Finding,
        FixAction,
        Installation,
        Inventory,
        OSInfo,
        PendingRestart,
        Report,
        RulesInfo,
        Unreadable,
    )
    from clientcheck.version import Version

REPORT_SCHEMA = "clientcheck.report/1"
INVENTORY_SCHEMA = "clientcheck.inventory/1"


def _version(value: Version | None) -> str | None:
    return str(value) if value is not None else None


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def os_dict(os_info: OSInfo) -> dict[str, Any]:
    return {
        "platform": os_info.platform,
        "id": os_info.id,
        "name": os_info.name,
        "version": _version(os_info.version),
        "pretty_name": os_info.pretty_name,
        "track": os_info.track,
        "codename": os_info.codename,
        "id_like": list(os_info.id_like),
        "kernel": os_info.kernel,
        "source": os_info.source,
        "problem": os_info.problem,
    }


def software_dict(item: Installation) -> dict[str, Any]:
    return {
        "product": item.product,
        "category": item.category,
        "name": item.name,
        "version": _version(item.version),
        "track": item.track,
        "scope": item.scope,
        "source": item.source,
        "path": item.path,
        "package": item.package,
        "package_version": item.package_version,
        "desktop_id": item.desktop_id,
        "problem": item.problem,
    }


def fix_dict(fix: FixAction | None, language: str) -> dict[str, Any] | None:
    """The action that starts the update: its label in the report's language, the URI it opens (a link,
    a settings page), or the program it starts (a software center, a browser: by name, never a path)."""
    if fix is None:
        return None
    from clientcheck.i18n import translation

    program = fix.argv[0].replace("\\", "/").rsplit("/", 1)[-1] if fix.argv else None
    t = translation(language)
    return {"label": t.gettext(fix.label, name=t.gettext(fix.name)), "uri": fix.uri, "program": program}


def finding_dict(finding: Finding, language: str = "en", today: dt.date | None = None) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "product": finding.product,
        "name": finding.name,
        "status": finding.status,
        "severity": finding.severity,
        "installed": _version(finding.installed),
        "required": _version(finding.required),
        "deadline": _date(finding.deadline),
        "message": finding.message,
        "url": finding.url,
        "remedy": finding.remedy,
        "scope": finding.scope,
        "path": finding.path,
        "restart": finding.restart,
        "days_left": finding.days_left if today is None else days_left(finding, today),
        "step": finding.step,
        "fix": fix_dict(finding.fix, language),
    }


def rules_dict(info: RulesInfo) -> dict[str, Any]:
    return {
        "source": info.source,
        "publisher": info.publisher,
        "serial": info.serial,
        "sha256": info.sha256,
        "published": _date(info.published),
        "expires": _date(info.expires),
        "stale": info.stale,
        "fallback_reason": info.fallback_reason,
        "published_in_future": info.published_in_future,
    }


def restart_dict(restart: PendingRestart) -> dict[str, Any]:
    return {
        "product": restart.product,
        "kind": restart.kind,
        "path": restart.path,
        "installed": _version(restart.installed),
        "running": _version(restart.running),
        "reason": restart.reason,
    }


def unreadable_dict(item: Unreadable) -> dict[str, Any]:
    return {"path": item.path, "problem": item.problem, "hides": item.hides}


def _warnings(inventory: Inventory) -> list[str]:
    # Every place that could not be read, as before "unreadable" existed: readers of this key see them all.
    return [*inventory.warnings, *(item.line for item in inventory.unreadable)]


def _inventory_fields(inventory: Inventory) -> dict[str, Any]:
    return {
        "os": os_dict(inventory.os),
        "software": [software_dict(item) for item in inventory.software],
        "default_pdf_viewer": inventory.default_pdf,
        "default_pdf_viewer_source": inventory.default_pdf_source,
        "restarts": [restart_dict(restart) for restart in inventory.restarts],
    }


def report_dict(report: Report) -> dict[str, Any]:
    summary: dict[str, Any] = {"status": report.status}
    summary.update({status: report.count(status) for status in STATUS_ORDER})
    return {
        "schema": REPORT_SCHEMA,
        "generated_at": _timestamp(report.generated_at),
        "agent": {"name": "clientcheck", "version": __version__},
        "language": report.language,
        "as_of": _date(report.as_of),
        **_inventory_fields(report.inventory),
        "findings": [finding_dict(finding, report.language, report.as_of) for finding in report.findings],
        "rules": rules_dict(report.rules),
        "summary": summary,
        "warnings": _warnings(report.inventory),
        "unreadable": [unreadable_dict(item) for item in report.inventory.unreadable],
    }


def inventory_dict(inventory: Inventory, generated_at: dt.datetime) -> dict[str, Any]:
    return {
        "schema": INVENTORY_SCHEMA,
        "generated_at": _timestamp(generated_at),
        "agent": {"name": "clientcheck", "version": __version__},
        **_inventory_fields(inventory),
        "warnings": _warnings(inventory),
        "unreadable": [unreadable_dict(item) for item in inventory.unreadable],
    }


# json escapes C0 controls itself; DEL, the C1 controls and the bidi controls it writes as they are, which a
# terminal showing the file (`cat report.json`) would act on. They can only stand inside strings, so each
# becomes its \\u escape: the same value to every JSON reader, inert on a screen.
_INERT = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def dumps(document: dict[str, Any]) -> str:
    # One line, as fleet tools and `jq` expect, written by json's C encoder (cjson: without the json package's
    # imports), several times faster than the pure-Python one that indentation needs. Pipe through `jq .`.
    from clientcheck.cjson import dumps_compact

    return dumps_compact(document).translate(_INERT) + "\n"


def render_report(report: Report) -> str:
    return dumps(report_dict(report))


def render_inventory(inventory: Inventory, generated_at: dt.datetime) -> str:
    return dumps(inventory_dict(inventory, generated_at))
