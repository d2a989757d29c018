"""The words several formats share, written once so that they cannot disagree: a report's headline, its
headings, what no rule judged, when something in grace is owed, and what a reader must be told besides the
findings (places that could not be read, rules that are stale, not the ones asked for, or dated after today).

The formats for people (text, HTML, the login notice) say them in the report's language, through the
``Translation`` they are given, with dates in words; the formats for fleet tools (Nagios, Jamf, CSV, …) are
parsed by scripts and stay in English with ISO 8601 dates, which is what the functions say when given no
translation.
"""

from __future__ import annotations

from clientcheck.i18n import ENGLISH, N_
from clientcheck.model import days_left

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck import dates as dt
    from clientcheck.i18n import Translation
    from clientcheck.model import Finding, Installation, Inventory, OSInfo, Report, Status, Unreadable

HEADINGS: dict[Status, str] = {  # in the order a person should read them
    "owed": N_("Updates owed"),
    "unsupported": N_("Out of support (upgrade or replace)"),
    "restart": N_("Restart needed (updates installed, not yet in effect)"),
    "due": N_("Updates due soon"),
    "unknown": N_("Could not check"),
}
UNREADABLE_HEADING = N_("Could not be read (what is there may be missing from this report)")
UNJUDGED_HEADING = N_("Not covered by the rules")
WARNINGS_HEADING = N_("Also noted")
# What a place that could not be read may hide, as the inspectors say it (inspect/*: "hides"), translated
# where it is shown.
HIDDEN = (
    N_("applications installed there"),
    N_("an application"),
    N_("applications installed for one user"),
    N_("the versions of packaged applications"),
)


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


def headline(report: Report, t: Translation | None = None) -> str:
    """The verdict in one sentence, without a final stop.

    "All up to date" is said only when it is true as far as anything can tell: every finding ok, every
    product judged by some rule, everything read, and the rules the ones asked for, current, and dated
    before today. Otherwise a milder sentence, and the report says why."""
    t = t or ENGLISH
    system = os_label(report.inventory.os)
    if report.blocking:
        count = sum(1 for f in report.findings if f.blocking)
        return t.ngettext(
            "{count} update owed on this computer ({system})",
            "{count} updates owed on this computer ({system})",
            count,
            system=system,
        )
    if report.inventory.unreadable or any(f.status != "ok" for f in report.findings):
        return t.gettext(
            "Nothing required is owed on this computer ({system}), but some items need a look", system=system
        )
    if unjudged(report, t) or report.rules.in_doubt:
        return t.gettext("Nothing owed on this computer ({system})", system=system)
    return t.gettext("All up to date on this computer ({system})", system=system)


def unjudged(report: Report, t: Translation | None = None) -> list[str]:
    """What no rule judged: the OS (a distribution the rules do not name) and software, as "name version"."""
    t = t or ENGLISH
    judged = {f.product for f in report.findings}
    os_info = report.inventory.os
    found = [] if os_info.id in judged else [_label(os_info.name, os_info.version, t)]
    return found + [
        _label(item.name, item.version, t) for item in report.inventory.software if item.product not in judged
    ]


def _label(name: str, version: object, t: Translation) -> str:
    return f"{name} {version}" if version else t.gettext("{name}, version unknown", name=name)


def item(subject: str, detail: str, t: Translation) -> str:
    """``subject: detail``, with the colon as the language writes it (French: ``subject : detail``)."""
    # Translators: a thing and what is said of it: "Chromium 130.0: needs 156.0 or newer".
    return t.gettext("{subject}: {detail}", subject=subject, detail=detail)


def installed_label(item: Installation) -> str:
    return f"{item.name} {item.version}" if item.version else item.name


def unreadable_sentence(item: Unreadable, t: Translation | None = None) -> str:
    """One line for a person: where, why, and what the report may lack because of it."""
    if t is None:
        return item.sentence
    # Translators: {place} is a path, {problem} why it could not be read (in English, from the system), {hidden}
    # one of "applications installed there", "an application", …
    return t.gettext(
        "{place}: {problem}; {hidden} may be missing from this report",
        place=item.path,
        problem=item.problem,
        hidden=t.gettext(item.hides),
    )


def deadline_phrase(finding: Finding, today: dt.date, t: Translation) -> str | None:
    """When a finding in grace is owed, in words and as a date: "owed from 9 December: 8 days left"
    (the deadline is the first day it is owed; the days are counted from the day judged, the machine's
    own "today"). None for a finding without a deadline."""
    left = days_left(finding, today)
    if finding.deadline is None or left is None:
        return None
    # Translators: {date} is a day in words ("9 December"); the update is owed from that day on.
    return t.ngettext(
        "owed from {date}: {count} day left",
        "owed from {date}: {count} days left",
        left,
        date=t.day(finding.deadline, today),
    )


def deadline_line(phrase: str, finding: Finding, t: Translation) -> str:
    """The deadline phrase as a line of its own: a sentence, marked urgent at a stepped rule's warning."""
    if finding.step == "warning":
        # Translators: {deadline} is "owed from 9 December: 2 days left".
        return t.gettext("Urgent: {deadline}", deadline=phrase)
    return phrase[:1].upper() + phrase[1:]


def need(finding: Finding, t: Translation | None = None) -> str:
    """What a finding asks for, short: "needs 156.0 or newer", "out of support", "restart needed"."""
    t = t or ENGLISH
    if finding.status == "unknown":
        text = t.gettext("version unknown")
    elif finding.status == "restart":
        text = t.gettext("restart needed")
    elif finding.required:
        text = t.gettext("needs {version} or newer", version=finding.required)
    else:
        text = t.gettext("out of support")
    if finding.severity == "recommended":
        # Translators: {need} is "needs 156.0 or newer", "out of support", "restart needed".
        text = t.gettext("{need} (recommended)", need=text)
    return text


def rules_notes(report: Report, t: Translation | None = None) -> list[str]:
    """What to know about the rules that judged the report, each a sentence without a final stop."""
    words = t or ENGLISH
    info = report.rules
    notes = []
    if info.fallback_reason:
        notes.append(info.fallback_reason)
    if info.stale:
        days = (report.as_of - info.expires).days
        notes.append(
            words.ngettext(
                "these rules expired on {date} ({count} day ago); newer minimums may exist",
                "these rules expired on {date} ({count} days ago); newer minimums may exist",
                days,
                date=_date(info.expires, t),
            )
        )
    if info.published_in_future:
        today = report.generated_at.date()
        if report.as_of == today:
            notes.append(
                words.gettext(
                    "these rules were published on {date}, after today ({today}): this computer's clock may be wrong"
                    " (then deadlines and expiry never come) or the rule file is not genuine",
                    date=_date(info.published, t),
                    today=_date(report.as_of, t),
                )
            )
        else:
            notes.append(
                words.gettext(
                    "these rules were published on {date}, after the day judged for ({day}): this computer's clock"
                    " may be wrong (then deadlines and expiry never come) or the rule file is not genuine",
                    date=_date(info.published, t),
                    day=_date(report.as_of, t),
                )
            )
    return notes


def _date(day: dt.date, t: Translation | None) -> str:
    # The fleet formats keep ISO dates, which scripts compare; people read the date in words.
    return day.isoformat() if t is None else t.date(day)


def rules_source(source: str, t: Translation) -> str:
    """Where the rules came from, for a person: a path or URL as it is; the rules in the package by name."""
    # Translators: where the rules came from: the rule file that comes with clientcheck.
    return t.pgettext("rules source", "bundled") if source == "bundled" else source


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


def default_pdf_name(inventory: Inventory) -> str:
    """The default PDF viewer by its name (``Atril``), as found installed or as the catalog names it; a
    desktop id of something not in the catalog as it is."""
    product = inventory.default_pdf or ""
    installed = next((item.name for item in inventory.software if item.product == product), None)
    if installed:
        return installed
    from clientcheck.catalog import load_catalog

    known = load_catalog().products.get(product)
    return known.name if known is not None else product
