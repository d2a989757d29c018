"""A Nagios / Icinga plugin result: ``CLIENTCHECK <STATE> - <text> | <perfdata>``, then one line per finding
that is not ok (the plugin's "long output").

The state follows the exit status a plugin must give: 0 OK, 1 WARNING, 2 CRITICAL. 3 UNKNOWN is for a run
that failed (bad arguments, unreadable rules): the caller says that, never this renderer.
"""

from __future__ import annotations

from clientcheck.model import STATUS_ORDER, days_left
from clientcheck.render import words
from clientcheck.visible import one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck import dates as dt
    from clientcheck.model import Finding, Inventory, Report

OK, WARNING, CRITICAL = 0, 1, 2
_STATE_NAMES = ("OK", "WARNING", "CRITICAL")

# The first line is what dashboards and notifications show; older Nagios cores keep 4 KB of output in all,
# so each part is kept short and the long output is cut per line rather than dropped.
_SHORT_TEXT = 200
_LONG_LINE = 300


def nagios_exit_status(report: Report) -> int:
    """2 when a required update is owed (``check`` exits 1); 1 when something is due, only recommended or
    could not be read, or when the rules are in doubt (expired, fallen back to others than were asked
    for, dated after today); 0 when all is well."""
    if report.blocking:
        return CRITICAL
    return OK if report.status == "ok" and not report.rules.in_doubt else WARNING


def _clean(text: str) -> str:
    # "|" starts the performance data and a newline starts the long output: either inside a name or a
    # message read from the machine would corrupt the plugin's output for the parser. Control characters
    # are written out: the output ends up on consoles and in notification mails.
    return one_line(text.replace("|", "/"))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _counts(report: Report) -> dict[str, int]:
    """The perfdata counts, split so that each agrees with the state it sets: ``owed`` and ``unsupported``
    count only required findings (CRITICAL); a recommended update that is owed or out of support counts as
    ``due`` (WARNING), as the state treats it."""
    counts = {"owed": 0, "due": 0, "unsupported": 0, "restart": 0, "unknown": 0}
    for finding in report.findings:
        if finding.status == "ok":
            continue
        if finding.blocking or finding.status in ("due", "unknown"):
            counts[finding.status] += 1
        else:  # recommended: owed, out of support or waiting for a restart
            counts["due"] += 1
    return counts


def _rules_age_days(report: Report) -> int:
    # Judged against the day the report was judged for, as ``stale`` is; a rule file published after an
    # --as-of day would be negative, and the declared minimum is 0.
    return max(0, (report.as_of - report.rules.published).days)


def _perfdata(report: Report) -> str:
    counts = _counts(report)
    # 'label'=value;warn;crit;min;max. A threshold "0" is the range 0..0: it alerts on any value above 0,
    # so one owed update is critical and one due update a warning (a threshold "1" would wait for two).
    fields = [
        f"'owed'={counts['owed']};;0;0",
        f"'due'={counts['due']};0;;0",
        f"'unsupported'={counts['unsupported']};;0;0",
        f"'unknown'={counts['unknown']};0;;0",
        f"'restart'={counts['restart']};;0;0",
        f"'rules_age_days'={_rules_age_days(report)};;;0",
    ]
    return " ".join(fields)


def _short_text(report: Report) -> str:
    findings = [f for f in report.findings if f.status != "ok"]
    blocking = [f for f in findings if f.blocking]
    parts: list[str] = []
    restart = [f for f in blocking if f.status == "restart"]
    blocking = [f for f in blocking if f.status != "restart"]
    if blocking:
        names = ", ".join(dict.fromkeys(_clean(f.name) for f in blocking))
        parts.append(f"{_plural(len(blocking), 'update')} owed: {names}")
    if restart:
        names = ", ".join(dict.fromkeys(_clean(f.name) for f in restart))
        parts.append(f"{_plural(len(restart), 'restart')} needed for installed updates: {names}")
    due = [f for f in findings if f.status == "due" and not f.blocking]
    if due:
        first = min((f for f in due if f.deadline), key=lambda f: (f.deadline, f.rule), default=None)
        by = f" before {first.deadline.isoformat()}{_days_left(first, report)}" if first and first.deadline else ""
        warned = " (stepped warning)" if any(f.step == "warning" for f in due) else ""
        parts.append(f"{_plural(len(due), 'update')} due{by}{warned}")
    recommended = [f for f in findings if f.status in ("owed", "unsupported", "restart") and not f.blocking]
    if recommended:
        parts.append(f"{_plural(len(recommended), 'recommended update')} not made")
    unknown = [f for f in findings if f.status == "unknown"]
    if unknown:
        # Unknown is a warning, not OK: software whose version cannot be read may be the one that is owed.
        parts.append(f"{_plural(len(unknown), 'version')} unknown, cannot tell if up to date")
    unreadable = words.unreadable_flag(report)
    if unreadable:
        # Whatever is there may be the one that is owed.
        parts.append(_clean(unreadable))
    if not parts:
        os_info = report.inventory.os
        version = f" {os_info.version}" if os_info.version else ""
        parts.append(f"nothing owed on {_clean(os_info.name)}{version}")
    parts += [_clean(flag) for flag in words.rules_flags(report)]
    return _cut("; ".join(parts), _SHORT_TEXT)


def _days_left(finding: Finding, report: Report) -> str:
    """`` (7 days left)``: counted from the day judged, the machine's own date."""
    left = days_left(finding, report.as_of)
    return f" ({_plural(left, 'day')} left)" if left is not None else ""


def _finding_line(finding: Finding, report: Report) -> str:
    installed = f" {finding.installed}" if finding.installed else ""
    if finding.status == "unknown":
        need = "version unknown"
    elif finding.status == "restart":
        need = f"restart needed ({finding.restart})"
    elif finding.required:
        need = f"needs {finding.required} or newer"
    else:
        need = "out of support"
    if finding.status == "due" and finding.deadline:
        need += f" before {finding.deadline.isoformat()}{_days_left(finding, report)}"
        if finding.step == "warning":
            need += " [warning]"
    if finding.severity == "recommended":
        need += " (recommended)"
    url = f" {finding.url}" if finding.url else ""
    line = f"{finding.status.upper()}: {finding.name}{installed}: {need} - {finding.message}{url}"
    return _cut(_clean(line), _LONG_LINE)


def render_report(report: Report) -> str:
    state = _STATE_NAMES[nagios_exit_status(report)]
    lines = [f"CLIENTCHECK {state} - {_short_text(report)} | {_perfdata(report)}"]
    for status in STATUS_ORDER:  # worst first, as the text report reads
        lines += [_finding_line(f, report) for f in report.findings if f.status == status and status != "ok"]
    lines += [_cut(_clean(f"UNREADABLE: {item.sentence}"), _LONG_LINE) for item in report.inventory.unreadable]
    lines += [_cut(_clean(f"RULES: {note}"), _LONG_LINE) for note in words.rules_notes(report)]
    return "\n".join(lines) + "\n"


def render_inventory(inventory: Inventory, generated_at: dt.datetime) -> str:
    # An inventory judges nothing, so it can only be OK; it lists what was found as the long output.
    os_info = inventory.os
    os_version = str(os_info.version) if os_info.version else "version unknown"
    count = len(inventory.software)
    lines = [
        f"CLIENTCHECK OK - {_clean(os_info.name)} {os_version}, {_plural(count, 'application')} found"
        f" | 'software'={count};;;0"
    ]
    for item in inventory.software:
        version = str(item.version) if item.version else "version unknown"
        lines.append(_cut(_clean(f"{item.name} {version} ({item.product}, {item.scope})"), _LONG_LINE))
    lines += [_cut(_clean(f"UNREADABLE: {item.sentence}"), _LONG_LINE) for item in inventory.unreadable]
    return "\n".join(lines) + "\n"
