"""One self-contained HTML page for a person: the verdict, then what to do about each item worst first,
then everything found and which rules judged it.

Self-contained on purpose: the page is mailed, attached to tickets and opened from disk, so it has inline
CSS only, no scripts and nothing fetched from elsewhere. Every value read from the machine or the rule file
goes through ``html.escape``: a product name or a message is text, never markup.
"""

from __future__ import annotations

from html import escape

from clientcheck import dates as dt
from clientcheck.model import STATUS_ORDER
from clientcheck.render import words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.model import Finding, Installation, Inventory, Report

# Plain, small CSS: readable at 1024 px, and one column on a phone (the table scrolls sideways rather than
# squeezing the version column). Colours mark the status; the status is also written out, for colour blindness.
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45;margin:0;
color:#1a1a1a;background:#f6f6f4}
main{max-width:60rem;margin:0 auto;padding:1rem 1.25rem 2rem}
h1{font-size:1.6rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.75rem 0 .5rem}
h3{font-size:1rem;margin:0 0 .35rem}
.card{background:#fff;border:1px solid #ddd;border-left:.4rem solid #888;border-radius:.3rem;
padding:.75rem 1rem;margin:0 0 .75rem}
.owed,.unsupported{border-left-color:#c62828}.due{border-left-color:#ef8f00}.unknown{border-left-color:#6d6d6d}
.ok{border-left-color:#2e7d32}
.status{font-size:.8rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em}
.card p{margin:.3rem 0}
code{font-family:ui-monospace,Menlo,Consolas,monospace;background:#f0f0ec;padding:.1rem .3rem;
border-radius:.2rem;overflow-wrap:anywhere}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e3e3e3;vertical-align:top}
th{background:#ecece8}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.note{color:#8a4b00}
footer{margin-top:2rem;font-size:.85rem;color:#555}
@media (max-width:40rem){main{padding:.75rem}h1{font-size:1.3rem}dl{grid-template-columns:1fr}}
"""


def _e(value: object) -> str:
    # Escaped, and controls written out: C0 controls are not allowed in an HTML page, and a bidi override
    # would make a name or a message read in another order than it is.
    return escape(words.shown(str(value)), quote=True)


def _link(url: str) -> str:
    # Only web links become links: a rule file could carry "javascript:" or "file:" URLs, which a click on a
    # report must not run or open; anything else is shown as text.
    if url.lower().startswith(("https://", "http://")):
        return f'<a href="{_e(url)}">{_e(url)}</a>'
    return _e(url)


def _need(finding: Finding) -> str:
    if finding.status == "unknown":
        return "version unknown"
    if finding.status == "restart":
        return "restart needed" + (" (recommended)" if finding.severity == "recommended" else "")
    need = f"needs {finding.required} or newer" if finding.required else "out of support"
    if finding.status == "due" and finding.deadline:
        need += f" before {finding.deadline.isoformat()}"  # the deadline is the first day it is owed
    if finding.severity == "recommended":
        need += " (recommended)"
    return need


def _card(finding: Finding) -> str:
    installed = f" {finding.installed}" if finding.installed else ""
    parts = [
        f'<section class="card {_e(finding.status)}">',
        f'<p class="status">{_e(finding.status)}</p>',
        f"<h3>{_e(finding.name + installed)}: {_e(_need(finding))}</h3>",
        f"<p>{_e(finding.message)}</p>",
    ]
    if finding.remedy:
        parts.append(f"<p>How: <code>{_e(finding.remedy)}</code></p>")
    if finding.url:
        parts.append(f"<p>More: {_link(finding.url)}</p>")
    if finding.path:
        parts.append(f"<p>Where: <code>{_e(finding.path)}</code></p>")
    parts.append("</section>")
    return "\n".join(parts)


def _cell(value: object) -> str:
    return f"<td>{_e(value) if value not in (None, '') else '&ndash;'}</td>"


def _row(name: str, version: object, track: str | None, scope: str | None, source: str | None) -> str:
    return "<tr>" + "".join(_cell(value) for value in (name, version, track, scope, source)) + "</tr>"


def _software_row(item: Installation) -> str:
    version = item.version if item.version else f"unknown ({item.problem})" if item.problem else "unknown"
    return _row(item.name, version, item.track, item.scope, item.source)


def _table(inventory: Inventory) -> str:
    os_info = inventory.os
    os_version = os_info.version if os_info.version else f"unknown ({os_info.problem})" if os_info.problem else None
    rows = [_row(os_info.pretty_name or os_info.name, os_version, os_info.track, None, os_info.source)]
    rows += [_software_row(item) for item in inventory.software]
    head = "".join(f'<th scope="col">{title}</th>' for title in ("Product", "Version", "Track", "Scope", "Source"))
    return (
        '<div class="scroll"><table>\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table></div>"
    )


def _rules(report: Report) -> str:
    info = report.rules
    items = [
        ("Source", _e(info.source)),
        ("Publisher", _e(info.publisher)),
        ("Serial", _e(info.serial)),
        ("Published", _e(info.published.isoformat())),
        ("Expires", _e(info.expires.isoformat())),
    ]
    lines = ["<dl>", *(f"<dt>{term}</dt><dd>{value}</dd>" for term, value in items), "</dl>"]
    lines += [f'<p class="note">Note: {_e(note)}</p>' for note in words.rules_notes(report)]
    return "\n".join(lines)


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%d %H:%M:%S UTC")


def _page(language: str, title: str, body: list[str]) -> str:
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                f'<html lang="{_e(language)}">',
                "<head>",
                '<meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>{_e(title)}</title>",
                f"<style>{_CSS}</style>",
                "</head>",
                "<body>",
                "<main>",
                *body,
                "</main>",
                "</body>",
                "</html>",
            ]
        )
        + "\n"
    )


def _list(heading: str, items: list[str]) -> list[str]:
    return [f"<h2>{_e(heading)}</h2>", "<ul>", *(f"<li>{_e(item)}</li>" for item in items), "</ul>"]


def render_report(report: Report) -> str:
    verdict = words.headline(report)
    body = [f"<h1>{_e(verdict)}</h1>"]
    if report.rules.in_doubt:  # said at the top as well: the verdict above rests on these rules
        body += [f'<p class="note">Note: {_e(note)}</p>' for note in words.rules_notes(report)]
    for status in STATUS_ORDER:
        group = [f for f in report.findings if f.status == status]
        if group and status != "ok":
            body.append(f"<h2>{_e(words.HEADINGS[status])}</h2>")
            body += [_card(finding) for finding in group]
    if report.inventory.unreadable:
        body += _list(words.UNREADABLE_HEADING, [item.sentence for item in report.inventory.unreadable])
    ok = [f for f in report.findings if f.status == "ok"]
    if ok:
        labels = dict.fromkeys(f"{f.name} {f.installed}" if f.installed else f.name for f in ok)
        body += ["<h2>Up to date</h2>", f"<p>{_e(', '.join(labels))}</p>"]
    unjudged = words.unjudged(report)
    if unjudged:
        body += [f"<h2>{_e(words.UNJUDGED_HEADING)}</h2>", f"<p>{_e(', '.join(unjudged))}</p>"]
    body += ["<h2>Everything found</h2>", _table(report.inventory)]
    if report.inventory.default_pdf:
        body.append(f"<p>Opens PDFs by default: {_e(report.inventory.default_pdf)}</p>")
    if report.inventory.warnings:
        body += _list(words.WARNINGS_HEADING, list(report.inventory.warnings))
    body += ["<h2>Rules used</h2>", _rules(report)]
    body.append(
        f"<footer>Generated {_e(_timestamp(report.generated_at))}, judged for {_e(report.as_of.isoformat())}"
        " by clientcheck.</footer>"
    )
    return _page(report.language, verdict, body)


def render_inventory(inventory: Inventory, generated_at: dt.datetime) -> str:
    # The inventory judges nothing: only the table, with the time it was taken.
    title = f"Software found on {words.os_label(inventory.os)}"
    body = [f"<h1>{_e(title)}</h1>", _table(inventory)]
    if inventory.unreadable:
        body += _list(words.UNREADABLE_HEADING, [item.sentence for item in inventory.unreadable])
    body.append(f"<footer>Generated {_e(_timestamp(generated_at))} by clientcheck.</footer>")
    return _page("en", title, body)
