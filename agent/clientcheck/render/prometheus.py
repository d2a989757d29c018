"""Metrics in the Prometheus text exposition format, for node_exporter's textfile collector.

The collector reads ``*.prom`` files as they are: no timestamps (it stamps samples itself), a final
newline (windows_exporter refuses a file without one), and no duplicate series (node_exporter drops the
whole file when one series appears twice). Labels carry only bounded values: no paths, no messages.
"""

from __future__ import annotations

from clientcheck import dates as dt
from clientcheck.model import STATUS_ORDER, days_left
from clientcheck.visible import visible

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from clientcheck.model import Inventory, OSInfo, Report

    Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    # The exposition format's label value escapes, in this order so an added backslash is not doubled; a
    # version or an OS id read from the machine may hold controls, which are written out first.
    return visible(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _family(name: str, help_text: str, samples: Sequence[tuple[Labels, int]]) -> list[str]:
    lines = [f"# HELP {name} {_help(help_text)}", f"# TYPE {name} gauge"]
    seen: set[Labels] = set()
    for labels, value in samples:
        if labels in seen:  # two installs alike in every label (one flatpak per user): one series
            continue
        seen.add(labels)
        body = ",".join(f'{key}="{_escape(text)}"' for key, text in labels)
        lines.append(f"{name}{{{body}}} {value}" if body else f"{name} {value}")
    return lines


_DAY = 24 * 60 * 60


def _seconds(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _day_start(day: dt.date) -> int:
    """The first second of ``day`` in UTC, as seconds since the epoch (any date a rule file may hold)."""
    return _seconds(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc))


def _os_family(os_info: OSInfo) -> list[str]:
    labels = (("id", os_info.id), ("version", _text(os_info.version)), ("track", _text(os_info.track)))
    return _family("clientcheck_os_info", "The operating system, as clientcheck read it.", [(labels, 1)])


def _software_family(inventory: Inventory) -> list[str]:
    samples = [
        (
            (
                ("product", item.product),
                ("version", _text(item.version)),
                ("track", _text(item.track)),
                ("scope", item.scope),
                ("source", _text(item.source)),
            ),
            1,
        )
        for item in inventory.software
    ]
    help_text = "A browser or PDF viewer installed; version empty when unknown."
    return _family("clientcheck_software_info", help_text, samples)


def _restart_family(inventory: Inventory) -> list[str]:
    samples = [((("product", restart.product), ("kind", restart.kind)), 1) for restart in inventory.restarts]
    help_text = "An update installed but not in effect until a restart (kind: program or system)."
    return _family("clientcheck_restart_pending", help_text, samples)


def _unreadable_family(inventory: Inventory) -> list[str]:
    # A count, not one series per path: labels carry only bounded values. The report names them.
    help_text = "Places that could not be read and may hide an installation (summary status unknown)."
    return _family("clientcheck_unreadable", help_text, [((), len(inventory.unreadable))])


def _last_run(generated_at: dt.datetime) -> list[str]:
    return _family(
        "clientcheck_last_run_timestamp_seconds", "When clientcheck last ran.", [((), _seconds(generated_at))]
    )


def render_report(report: Report) -> str:
    rules = report.rules
    # The rules are good through their expiry day (stale once today is after it): they expire at the end of
    # that day, taken in UTC, so `time() > clientcheck_rules_expiry_timestamp_seconds` agrees with stale.
    # The day's length is added to the seconds, not to the date: 9999-12-31 has no next day.
    expiry = _day_start(rules.expires) + _DAY
    due = [f for f in report.findings if f.status == "due" and f.deadline is not None]
    finding_samples = [
        (
            (("rule", f.rule), ("product", f.product), ("status", f.status), ("severity", f.severity)),
            1,
        )
        for f in report.findings
    ]
    lines = [
        *_family(
            "clientcheck_updates_owed",
            "1 when a required update is owed (clientcheck check exits 1), else 0.",
            [((), int(report.blocking))],
        ),
        *_family(
            "clientcheck_findings",
            "Findings by status.",
            [((("status", status),), report.count(status)) for status in STATUS_ORDER],
        ),
        *_family("clientcheck_finding", "One finding: a rule applied to an installed product.", finding_samples),
        *_family(
            "clientcheck_finding_deadline_timestamp_seconds",
            "A finding in grace (due): when it becomes owed (the start of its deadline day, UTC).",
            [((("rule", f.rule), ("product", f.product)), _day_start(f.deadline)) for f in due if f.deadline],
        ),
        *_family(
            "clientcheck_finding_days_left",
            "A finding in grace (due): days until it is owed, from the machine's own date; step is its stepped"
            " warning (quiet, notice, warning).",
            [
                (
                    (("rule", f.rule), ("product", f.product), ("step", f.step or "notice")),
                    days_left(f, report.as_of) or 0,
                )
                for f in due
            ],
        ),
        *_software_family(report.inventory),
        *_os_family(report.inventory.os),
        *_restart_family(report.inventory),
        *_family("clientcheck_rules_serial", "Serial number of the rule file used.", [((), rules.serial)]),
        *_family(
            "clientcheck_rules_expiry_timestamp_seconds",
            "When the rule file used expires (the end of its expiry day, UTC).",
            [((), expiry)],
        ),
        *_family("clientcheck_rules_stale", "1 when the rule file used has expired, else 0.", [((), int(rules.stale))]),
        *_family(
            "clientcheck_rules_fallback",
            "1 when the rules asked for could not be used and others (the last good or the bundled) judged, else 0.",
            [((), int(rules.fallback_reason is not None))],
        ),
        *_family(
            "clientcheck_rules_published_timestamp_seconds",
            "When the rule file used was published (the start of its publication day, UTC).",
            [((), _day_start(rules.published))],
        ),
        *_family(
            "clientcheck_rules_published_in_future",
            "1 when the rule file used is dated after the day judged for (a wrong clock, or a bogus file), else 0.",
            [((), int(rules.published_in_future))],
        ),
        *_unreadable_family(report.inventory),
        *_last_run(report.generated_at),
    ]
    return "\n".join(lines) + "\n"


def render_inventory(inventory: Inventory, generated_at: dt.datetime) -> str:
    lines = [
        *_software_family(inventory),
        *_os_family(inventory.os),
        *_restart_family(inventory),
        *_unreadable_family(inventory),
        *_last_run(generated_at),
    ]
    return "\n".join(lines) + "\n"
