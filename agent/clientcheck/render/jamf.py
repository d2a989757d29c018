"""A Jamf Pro extension attribute: one line ``<result>…</result>``, of which Jamf stores the text between
the tags as a string attribute.

``OK`` when nothing is owed, else the status and what is not ok, worst first, so a smart group can match
``OWED:`` (or ``like Chromium``) without a second attribute.
"""

from __future__ import annotations

from clientcheck.model import STATUS_ORDER
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


def _escaped(char: str) -> str:
    return _ENTITIES.get(char, char)


def _result(text: str) -> str:
    # A name read from the machine may hold a newline, a tab or a control character; the attribute is one
    # line of text, shown as it is in Jamf's inventory pages.
    text = one_line(text)
    escaped = "".join(_escaped(char) for char in text)
    if len(escaped) > LIMIT:
        # Cut the text, not its escaped form, so no entity is split; then escape what is kept.
        kept = 0
        length = len(_ELLIPSIS)
        for char in text:
            length += len(_escaped(char))
            if length > LIMIT:
                break
            kept += 1
        cut = text[:kept].rstrip(" ;,")  # no dangling separator before the ellipsis
        escaped = "".join(_escaped(char) for char in cut) + _ELLIPSIS
    return f"<result>{escaped}</result>\n"


def _item(finding: Finding) -> str:
    installed = f" {finding.installed}" if finding.installed else ""
    if finding.status == "unknown":
        need = "version unknown"
    elif finding.status == "restart":
        need = "restart needed"
    elif finding.required:
        need = f"needs {finding.required}"
        if finding.status == "due" and finding.deadline:
            need += f" before {finding.deadline.isoformat()}"  # the first day it is owed
    else:
        need = "out of support"
    if finding.severity == "recommended":
        need += ", recommended"
    return f"{finding.name}{installed} ({need})"


def render_report(report: Report) -> str:
    if report.status == "ok":
        return _result("OK")
    items = [_item(f) for status in STATUS_ORDER if status != "ok" for f in report.findings if f.status == status]
    return _result(f"{report.status.upper()}: " + "; ".join(dict.fromkeys(items)))


def render_inventory(inventory: Inventory, generated_at: dt.datetime) -> str:
    os_info = inventory.os
    parts = [f"{os_info.name} {os_info.version or '(version unknown)'}"]
    parts += [f"{item.name} {item.version or '(version unknown)'}" for item in inventory.software]
    return _result("; ".join(dict.fromkeys(parts)))
