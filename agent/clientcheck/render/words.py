"""The words several formats share, written once so that they cannot disagree: a report's headline, its
headings, what no rule judged, and what a reader must be told besides the findings (places that could not
be read, rules that are stale, not the ones asked for, or dated after today)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.model import Installation, OSInfo, Report, Status

HEADINGS: dict[Status, str] = {  # in the order a person should read them
    "owed": "Updates owed",
    "unsupported": "Out of support (upgrade or replace)",
    "restart": "Restart needed (updates installed, not yet in effect)",
    "due": "Updates due soon",
    "unknown": "Could not check",
}
UNREADABLE_HEADING = "Could not be read (what is there may be missing from this report)"
UNJUDGED_HEADING = "Not covered by the rules"
WARNINGS_HEADING = "Also noted"


def shown(text: str) -> str:
    """``text`` with its control characters written out, as ``clientcheck.visible`` does; that module is
    imported only when there is one (every character it replaces is one ``isprintable`` refuses), so the
    usual report, plain text, costs no import at login."""
    if text.replace("\n", "").replace("\t", "").isprintable():
        return text
    from clientcheck.visible import visible

    return visible(text)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def os_label(os_info: OSInfo) -> str:
    return f"{os_info.name} {os_info.version}" if os_info.version else os_info.name


def headline(report: Report) -> str:
    """The verdict in one sentence, without a final stop.

    "All up to date" is said only when it is true as far as anything can tell: every finding ok, every
    product judged by some rule, everything read, and the rules the ones asked for, current, and dated
    before today. Otherwise a milder sentence, and the report says why."""
    where = f"on this computer ({os_label(report.inventory.os)})"
    if report.blocking:
        return f"{plural(sum(1 for f in report.findings if f.blocking), 'update')} owed {where}"
    if report.inventory.unreadable or any(f.status != "ok" for f in report.findings):
        return f"Nothing required is owed {where}, but some items need a look"
    if unjudged(report) or report.rules.in_doubt:
        return f"Nothing owed {where}"
    return f"All up to date {where}"


def unjudged(report: Report) -> list[str]:
    """What no rule judged: the OS (a distribution the rules do not name) and software, as "name version"."""
    judged = {f.product for f in report.findings}
    os_info = report.inventory.os
    found = [] if os_info.id in judged else [f"{os_info.name} {os_info.version or '(version unknown)'}"]
    return found + [_label(item) for item in report.inventory.software if item.product not in judged]


def _label(item: Installation) -> str:
    return f"{item.name} {item.version}" if item.version else f"{item.name} version unknown"


def rules_notes(report: Report) -> list[str]:
    """What to know about the rules that judged the report, each a sentence without a final stop."""
    info = report.rules
    notes = []
    if info.fallback_reason:
        notes.append(info.fallback_reason)
    if info.stale:
        days = (report.as_of - info.expires).days
        notes.append(f"these rules expired on {info.expires} ({plural(days, 'day')} ago); newer minimums may exist")
    if info.published_in_future:
        notes.append(
            f"these rules were published on {info.published}, after {_judged_day(report)}: this computer's clock"
            " may be wrong (then deadlines and expiry never come) or the rule file is not genuine"
        )
    return notes


def _judged_day(report: Report) -> str:
    today = report.generated_at.date()
    return f"today ({report.as_of})" if report.as_of == today else f"the day judged for ({report.as_of})"


def rules_flags(report: Report) -> list[str]:
    """The same as ``rules_notes``, short, for one-line formats (Nagios' status line, Jamf's attribute)."""
    info = report.rules
    flags = []
    if info.fallback_reason:
        to = "the bundled rules" if info.source == "bundled" else "a cached copy"
        flags.append(f"rules fell back to {to}")
    if info.stale:
        flags.append(f"rules expired {info.expires}")
    if info.published_in_future:
        flags.append(f"rules dated {info.published}, after {report.as_of}: check the clock")
    return flags


def unreadable_flag(report: Report) -> str | None:
    """The places that could not be read, short: ``could not read /Applications, /home``."""
    paths = list(dict.fromkeys(item.path for item in report.inventory.unreadable))
    return f"could not read {', '.join(paths)}" if paths else None
