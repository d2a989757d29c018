"""The report for a person: what is owed first, what to do about each, and little else."""

from __future__ import annotations

from clientcheck.render import words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck import dates as dt
    from clientcheck.model import Finding, Inventory, Report


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


def _rules_lines(report: Report) -> list[str]:
    info = report.rules
    lines = [f"Rules: {info.source} ({info.publisher}, serial {info.serial}, expires {info.expires})"]
    return lines + [f"Note: {note}" for note in words.rules_notes(report)]


def render_report(report: Report) -> str:
    findings = report.findings
    problems = [f for f in findings if f.status != "ok"]
    unreadable = report.inventory.unreadable
    # An update that waits for a restart is still owed: the headline counts it, its section says so.
    lines = [words.headline(report) + (":" if (problems or unreadable) and not report.blocking else ".")]
    for status, heading in words.HEADINGS.items():
        group = [f for f in problems if f.status == status]
        if group:
            lines += ["", f"{heading}:"]
            for finding in group:
                lines += _finding_lines(finding)
    if unreadable:
        lines += ["", f"{words.UNREADABLE_HEADING}:", *(f"  - {item.sentence}" for item in unreadable)]
    ok = [f"{_installed(f)}" for f in findings if f.status == "ok"]
    if ok:
        lines += ["", "Up to date: " + ", ".join(dict.fromkeys(ok))]
    unjudged = words.unjudged(report)
    if unjudged:
        lines.append(f"{words.UNJUDGED_HEADING}: " + ", ".join(unjudged))
    noted = {f.restart for f in findings if f.restart}
    waiting = [restart.reason for restart in report.inventory.restarts if restart.reason not in noted]
    if waiting:
        lines.append("Waiting for a restart: " + "; ".join(waiting))
    if report.inventory.warnings:
        lines += ["", f"{words.WARNINGS_HEADING}:", *(f"  - {warning}" for warning in report.inventory.warnings)]
    lines += ["", *_rules_lines(report)]
    # Names, paths and messages come from the machine and the rule file: nothing in them may act on a terminal.
    return words.shown("\n".join(lines)) + "\n"


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
    if inventory.unreadable:
        lines += ["", f"{words.UNREADABLE_HEADING}:", *(f"  - {item.sentence}" for item in inventory.unreadable)]
    for warning in inventory.warnings:
        lines.append(f"warning: {warning}")
    return words.shown("\n".join(lines)) + "\n"
