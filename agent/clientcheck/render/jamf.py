"""A Jamf Pro extension attribute: one line ``<result>…</result>``, of which Jamf stores the text between
the tags as a string attribute.

``OK`` when nothing is owed and nothing is in doubt, else a status word and what is not ok, worst first,
so a smart group can match ``OWED:`` (or ``like Chromium``) without a second attribute: ``OWED``, ``DUE``,
``UNKNOWN`` (a version or a place could not be read), or ``WARNING`` (nothing owed, but the rules are
expired, not the ones asked for, or dated after today). Places that could not be read and notes about the
rules come last, and are never cut away.
"""

from __future__ import annotations

from clientcheck.model import STATUS_ORDER, days_left
from clientcheck.render import words
from clientcheck.visible import one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck import dates as dt
    from clientcheck.model import Finding, Inventory, Report

# Jamf's string attributes are meant to be short (a smart group compares the whole value); the value is cut
# to this many characters as stored, entities included, so a cut never splits one.
LIMIT = 255
_ELLIPSIS = "…"
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _escaped(text: str) -> str:
    return "".join(_ENTITIES.get(char, char) for char in text)


def _cut(text: str, room: int) -> str:
    """``text`` escaped, cut to ``room`` characters as stored (with an ellipsis), never inside an entity."""
    if len(_escaped(text)) <= room:
        return _escaped(text)
    # Cut the text, not its escaped form, so no entity is split; then escape what is kept.
    kept = 0
    length = len(_ELLIPSIS)
    for char in text:
        length += len(_escaped(char))
        if length > room:
            break
        kept += 1
    cut = text[:kept].rstrip(" ;,")  # no dangling separator before the ellipsis
    return _escaped(cut) + _ELLIPSIS


def _result(text: str, tail: str = "") -> str:
    """The attribute: ``text`` cut to fit, then ``tail`` (what must not be cut away) whole where it fits.
    A name read from the machine may hold a newline, a tab or a control character; the attribute is one
    line of text, shown as it is in Jamf's inventory pages."""
    text, tail = one_line(text), one_line(tail)
    tail_room = min(len(_escaped(tail)), LIMIT // 2) if tail else 0
    separator = "; " if tail and text else ""
    value = _cut(text, LIMIT - tail_room - len(separator)) + separator if text else ""
    value += _cut(tail, LIMIT - len(value)) if tail else ""
    return f"<result>{value}</result>\n"


def _item(finding: Finding, report: Report) -> str:
    installed = f" {finding.installed}" if finding.installed else ""
    if finding.status == "unknown":
        need = "version unknown"
    elif finding.status == "restart":
        need = "restart needed"
    elif finding.required:
        need = f"needs {finding.required}"
        if finding.status == "due" and finding.deadline:
            need += f" before {finding.deadline.isoformat()}"  # the first day it is owed
            left = days_left(finding, report.as_of)
            if left is not None:
                need += f", {left} day{'s' if left != 1 else ''} left"
            if finding.step == "warning":
                need += ", warning"
    else:
        need = "out of support"
    if finding.severity == "recommended":
        need += ", recommended"
    return f"{finding.name}{installed} ({need})"


def render_report(report: Report) -> str:
    notes = "; ".join([*filter(None, [words.unreadable_flag(report)]), *words.rules_flags(report)])
    if report.status == "ok":
        return _result(f"WARNING: {notes}" if notes else "OK")
    items = [
        _item(f, report) for status in STATUS_ORDER if status != "ok" for f in report.findings if f.status == status
    ]
    if not items:  # unknown only because a place could not be read
        return _result(f"{report.status.upper()}: {notes}")
    return _result(f"{report.status.upper()}: " + "; ".join(dict.fromkeys(items)), notes)


def render_inventory(inventory: Inventory, generated_at: dt.datetime) -> str:
    os_info = inventory.os
    parts = [f"{os_info.name} {os_info.version or '(version unknown)'}"]
    parts += [f"{item.name} {item.version or '(version unknown)'}" for item in inventory.software]
    return _result("; ".join(dict.fromkeys(parts)))
