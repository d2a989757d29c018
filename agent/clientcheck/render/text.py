"""The report for a person: what is owed first, what to do about each, and little else, in the report's
language."""

from __future__ import annotations

from clientcheck.i18n import translation
from clientcheck.render import words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck import dates as dt
    from clientcheck.i18n import Translation
    from clientcheck.model import Finding, Inventory, Report


def _installed(finding: Finding) -> str:
    return f"{finding.name} {finding.installed}" if finding.installed else finding.name


def _finding_lines(finding: Finding, today: dt.date, t: Translation) -> list[str]:
    if finding.status == "unknown":
        return ["  - " + words.item(finding.name, finding.message, t)]
    lines = ["  - " + words.item(_installed(finding), words.need(finding, t), t)]
    if finding.status == "restart":
        lines.append("      " + words.item(finding.message, finding.restart or "", t))
        return lines + (["      " + t.gettext("How: {remedy}", remedy=finding.remedy)] if finding.remedy else [])
    deadline = words.deadline_phrase(finding, today, t)
    if deadline:
        lines.append("      " + words.deadline_line(deadline, finding, t))
    lines.append("      " + (words.item(finding.message, finding.url, t) if finding.url else finding.message))
    if finding.remedy:
        lines.append("      " + t.gettext("How: {remedy}", remedy=finding.remedy))
    if finding.restart:
        lines.append("      " + t.gettext("Also waiting for a restart: {reason}", reason=finding.restart))
    return lines


def _heading(text: str, t: Translation) -> str:
    # Translators: a heading of the text report, before its list ("Updates owed:").
    return t.gettext("{heading}:", heading=text)


def _rules_lines(report: Report, t: Translation) -> list[str]:
    info = report.rules
    lines = [
        t.gettext(
            "Rules: {source} ({publisher}, serial {serial}, expires {date})",
            source=words.rules_source(info.source, t),
            publisher=info.publisher,
            serial=info.serial,
            date=t.date(info.expires),
        )
    ]
    return lines + [t.gettext("Note: {note}", note=note) for note in words.rules_notes(report, t)]


def render_report(report: Report) -> str:
    t = translation(report.language)
    findings = report.findings
    problems = [f for f in findings if f.status != "ok"]
    unreadable = report.inventory.unreadable
    # An update that waits for a restart is still owed: the headline counts it, its section says so.
    lines = [words.headline(report, t) + (":" if (problems or unreadable) and not report.blocking else ".")]
    for status, heading in words.HEADINGS.items():
        group = [f for f in problems if f.status == status]
        if group:
            lines += ["", _heading(t.gettext(heading), t)]
            for finding in group:
                lines += _finding_lines(finding, report.as_of, t)
    if unreadable:
        lines += ["", _heading(t.gettext(words.UNREADABLE_HEADING), t)]
        lines += [f"  - {words.unreadable_sentence(item, t)}" for item in unreadable]
    ok = [f"{_installed(f)}" for f in findings if f.status == "ok"]
    if ok:
        lines += ["", t.gettext("Up to date: {items}", items=", ".join(dict.fromkeys(ok)))]
    unjudged = words.unjudged(report, t)
    if unjudged:
        lines.append(
            t.gettext("{heading}: {items}", heading=t.gettext(words.UNJUDGED_HEADING), items=", ".join(unjudged))
        )
    noted = {f.restart for f in findings if f.restart}
    waiting = [restart.reason for restart in report.inventory.restarts if restart.reason not in noted]
    if waiting:
        lines.append(t.gettext("Waiting for a restart: {reasons}", reasons="; ".join(waiting)))
    if report.inventory.warnings:
        lines += ["", _heading(t.gettext(words.WARNINGS_HEADING), t), *(f"  - {w}" for w in report.inventory.warnings)]
    lines += ["", *_rules_lines(report, t)]
    # Names, paths and messages come from the machine and the rule file: nothing in them may act on a terminal.
    return words.shown("\n".join(lines)) + "\n"


def _default_pdf_line(inventory: Inventory) -> str | None:
    if not inventory.default_pdf:
        return None
    return f"Opens PDFs by default: {words.default_pdf_name(inventory)}"


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
