"""The report for a person: what is owed first, what to do about each, and little else."""

from __future__ import annotations

from clientcheck import dates as dt
from clientcheck.visible import visible

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.model import Finding, Installation, Inventory, Report, Status

_HEADINGS: dict[Status, str] = {  # in the order a person should read them
    "owed": "Updates owed",
    "unsupported": "Out of support (upgrade or replace)",
    "restart": "Restart needed (updates installed, not yet in effect)",
    "due": "Updates due soon",
    "unknown": "Could not check",
}


def _installed(finding: Finding) -> str:
    return f"{finding.name} {finding.installed}" if finding.installed else finding.name


def _finding_lines(finding: Finding) -> list[str]:
    if finding.status == "unknown":
        return [f"  - {finding.name}: {finding.message}"]
    if finding.status == "restart":
        lines = [
            f"  - {_installed(finding)}: restart needed"
            + (" (recommended)" if finding.severity == "recommended" else "")
        ]
        lines.append(f"      {finding.message}: {finding.restart}")
        return lines + ([f"      How: {finding.remedy}"] if finding.remedy else [])
    need = f"needs {finding.required} or newer" if finding.required else "out of support"
    if finding.status == "due" and finding.deadline:
        need += f" before {finding.deadline.isoformat()}"  # the deadline is the first day it is owed
    if finding.severity == "recommended":
        need += " (recommended)"
    lines = [f"  - {_installed(finding)}: {need}"]
    lines.append(f"      {finding.message}" + (f": {finding.url}" if finding.url else ""))
    if finding.remedy:
        lines.append(f"      How: {finding.remedy}")
    if finding.restart:
        lines.append(f"      Also waiting for a restart: {finding.restart}")
    return lines


def _os_label(report: Report) -> str:
    os_info = report.inventory.os
    version = f" {os_info.version}" if os_info.version else ""
    return f"{os_info.name}{version}"


def _rules_lines(report: Report, today: dt.date) -> list[str]:
    info = report.rules
    lines = [f"Rules: {info.source} ({info.publisher}, serial {info.serial}, expires {info.expires})"]
    if info.fallback_reason:
        lines.append(f"Note: {info.fallback_reason}")
    if info.stale:
        lines.append(
            f"Note: these rules expired on {info.expires} ({(today - info.expires).days} days ago);"
            " newer minimums may exist"
        )
    return lines


def render_report(report: Report) -> str:
    findings = report.findings
    lines: list[str] = []
    problems = [f for f in findings if f.status != "ok"]
    if report.blocking:
        owed = sum(1 for f in findings if f.blocking)
        lines.append(f"{owed} update{'s' if owed != 1 else ''} owed on this computer ({_os_label(report)}).")
        # An update that waits for a restart is still owed: the count says which need only that.
    elif problems:
        lines.append(f"Nothing required is owed on this computer ({_os_label(report)}), but:")
    elif _unjudged(report):
        lines.append(f"Nothing owed on this computer ({_os_label(report)}).")
    else:
        lines.append(f"All up to date on this computer ({_os_label(report)}).")
    for status, heading in _HEADINGS.items():
        group = [f for f in problems if f.status == status]
        if group:
            lines += ["", f"{heading}:"]
            for finding in group:
                lines += _finding_lines(finding)
    ok = [f"{_installed(f)}" for f in findings if f.status == "ok"]
    if ok:
        lines += ["", "Up to date: " + ", ".join(dict.fromkeys(ok))]
    unjudged = _unjudged(report)
    if unjudged:
        lines.append("Not covered by the rules: " + ", ".join(unjudged))
    noted = {f.restart for f in findings if f.restart}
    waiting = [restart.reason for restart in report.inventory.restarts if restart.reason not in noted]
    if waiting:
        lines.append("Waiting for a restart: " + "; ".join(waiting))
    lines += ["", *_rules_lines(report, report.as_of)]
    # Names, paths and messages come from the machine and the rule file: nothing in them may act on a terminal.
    return visible("\n".join(lines)) + "\n"


def _unjudged(report: Report) -> list[str]:
    """What no rule judged: the OS (a distribution the rules do not name) and software."""
    judged = {f.product for f in report.findings}
    os_info = report.inventory.os
    unjudged = [] if os_info.id in judged else [f"{os_info.name} {os_info.version or '(version unknown)'}"]
    return unjudged + [_label(item) for item in report.inventory.software if item.product not in judged]


def _label(item: Installation) -> str:
    version = str(item.version) if item.version else "version unknown"
    return f"{item.name} {version}"


def _default_pdf_line(inventory: Inventory) -> str | None:
    return f"Opens PDFs by default: {inventory.default_pdf}" if inventory.default_pdf else None


def render_inventory(inventory: Inventory, generated_at: dt.datetime) -> str:
    os_info = inventory.os
    version = str(os_info.version) if os_info.version else f"version unknown ({os_info.problem})"
    lines = [f"{os_info.pretty_name or os_info.name}: {version}"]
    if os_info.kernel:
        lines.append(f"Kernel: {os_info.kernel}")
    for category, title in (("browser", "Browsers"), ("pdf-viewer", "PDF viewers")):
        items = [item for item in inventory.software if item.category == category]
        lines += ["", f"{title}:"]
        if not items:
            lines.append("  (none found)")
        for item in items:
            where = ", ".join(part for part in (item.source, item.package, item.scope) if part)
            state = str(item.version) if item.version else f"version unknown: {item.problem}"
            lines.append(f"  {item.name:<32} {state}  [{where}]")
    default = _default_pdf_line(inventory)
    if default:
        lines += ["", default]
    for warning in inventory.warnings:
        lines.append(f"warning: {warning}")
    return visible("\n".join(lines)) + "\n"
