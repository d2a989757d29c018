"""One self-contained HTML page for a person, in the report's language: the verdict, then what to do about
each item worst first (with the button that starts the update, where a link can), then everything found
and which rules judged it.

Self-contained on purpose: the page is mailed, attached to tickets and opened from disk, so it has inline
CSS only, no scripts and nothing fetched from elsewhere. Every value read from the machine or the rule file
goes through ``escape`` (``html.escape``'s): a product name or a message is text, never markup.

It reads from a 320 px phone (where the login notice opens it too) to a desktop: long links and commands
wrap inside their card, and on a narrow screen the table of everything found becomes one block per row,
each value under its column's name, instead of a table cut off at the screen's edge.
"""

from __future__ import annotations

from clientcheck import dates as dt
from clientcheck.i18n import N_, translation
from clientcheck.model import STATUS_ORDER
from clientcheck.render import words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.i18n import Translation
    from clientcheck.model import Finding, FixAction, Installation, Inventory, OSInfo, Report

# Plain, small CSS: readable at 1024 px, and one column on a phone. Colours mark the status; the status is
# also written out, for colour blindness.
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45;margin:0;
color:#1a1a1a;background:#f6f6f4;overflow-wrap:break-word;hyphens:auto}
main{max-width:60rem;margin:0 auto;padding:1rem 1.25rem 2rem}
h1{font-size:1.6rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.75rem 0 .5rem}
h3{font-size:1rem;margin:0 0 .35rem}
a,dd,.card p{overflow-wrap:anywhere}
.card{background:#fff;border:1px solid #ddd;border-left:.4rem solid #888;border-radius:.3rem;
padding:.75rem 1rem;margin:0 0 .75rem}
.owed,.unsupported{border-left-color:#c62828}.due{border-left-color:#ef8f00}.unknown{border-left-color:#6d6d6d}
.ok{border-left-color:#2e7d32}.due.urgent{border-left-color:#c62828;background:#fff6f5}
.status{font-size:.8rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em}
.deadline{font-weight:600}.urgent .deadline{color:#b71c1c}
.card p{margin:.3rem 0}
.fix{margin:.6rem 0 .2rem}
.fix a{display:inline-block;padding:.45rem .9rem;border-radius:.3rem;background:#1558b0;color:#fff;
font-weight:600;text-decoration:none}
.fix a:focus,.fix a:hover{background:#0d3f82;text-decoration:underline}
code{font-family:ui-monospace,Menlo,Consolas,monospace;background:#f0f0ec;padding:.1rem .3rem;
border-radius:.2rem;overflow-wrap:anywhere}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e3e3e3;vertical-align:top}
th{background:#ecece8}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1rem;margin:0}
dt{font-weight:600}dd{margin:0}
.note{color:#8a4b00}
footer{margin-top:2rem;font-size:.85rem;color:#555}
@media (max-width:40rem){main{padding:.75rem}h1{font-size:1.3rem}dl{grid-template-columns:minmax(0,1fr)}
table,tbody,tr,td{display:block}thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
tr{border-bottom:1px solid #d6d6d0;padding:.4rem 0}td{border:0;padding:.1rem .6rem}
td::before{content:attr(data-label) ": ";font-weight:600}}
"""

# The status as the card's label says it.
# Translators: the status of one item of the report, shown in capitals on its card.
STATUS_WORDS = {
    "owed": N_("owed"),
    "unsupported": N_("out of support"),
    "restart": N_("restart needed"),
    "due": N_("due"),
    "unknown": N_("unknown"),
    "ok": N_("up to date"),
}
# Web links and the settings pages our catalog names open from a page; a rule file's "javascript:" or
# "file:" URL must not, and is shown as text.
_RULE_LINKS = ("https://", "http://")
_ACTION_LINKS = ("https://", "ms-settings:", "x-apple.systempreferences:")


def escape(text: str) -> str:
    """``html.escape(text, quote=True)``, without the html package, which imports ``re`` (a login renders this
    page at every run)."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


def _e(value: object) -> str:
    # Escaped, and controls written out: C0 controls are not allowed in an HTML page, and a bidi override
    # would make a name or a message read in another order than it is.
    return escape(words.shown(str(value)))


def _link(url: str) -> str:
    if url.lower().startswith(_RULE_LINKS):
        return f'<a href="{_e(url)}">{_e(url)}</a>'
    return _e(url)


def _fix(fix: FixAction | None, t: Translation) -> str | None:
    """The button that starts the update, where a link can start it: a settings page, a vendor's page.
    A program (a software center, a browser's own page) cannot be started from a page: the notice's
    button does that, and the "How" line says it in words."""
    if fix is None or fix.uri is None or not fix.uri.lower().startswith(_ACTION_LINKS):
        return None
    label = t.gettext(fix.label, name=t.gettext(fix.name))
    return f'<p class="fix"><a href="{_e(fix.uri)}">{_e(label)}</a></p>'


def _card(finding: Finding, today: dt.date, t: Translation) -> str:
    installed = f" {finding.installed}" if finding.installed else ""
    urgent = " urgent" if finding.step == "warning" else ""
    status = t.gettext(STATUS_WORDS[finding.status])
    parts = [
        f'<section class="card {_e(finding.status)}{urgent}">',
        f'<p class="status">{_e(status)}</p>',
        f"<h3>{_e(words.item(finding.name + installed, words.need(finding, t), t))}</h3>",
    ]
    deadline = words.deadline_phrase(finding, today, t)
    if deadline:
        parts.append(f'<p class="deadline">{_e(words.deadline_line(deadline, finding, t))}</p>')
    if finding.restart and finding.status == "restart":
        parts.append(f"<p>{_e(words.item(finding.message, finding.restart, t))}</p>")
    else:
        parts.append(f"<p>{_e(finding.message)}</p>")
    fix = _fix(finding.fix, t)
    if fix:
        parts.append(fix)
    if finding.remedy:
        parts.append(_labelled(t.gettext("How:"), f"<code>{_e(finding.remedy)}</code>"))
    if finding.url:
        parts.append(_labelled(t.gettext("More:"), _link(finding.url)))
    if finding.restart and finding.status != "restart":
        waiting = t.gettext("Also waiting for a restart: {reason}", reason=finding.restart)
        parts.append(f"<p>{_e(waiting)}</p>")
    if finding.path:
        parts.append(_labelled(t.gettext("Where:"), f"<code>{_e(finding.path)}</code>"))
    parts.append("</section>")
    return "\n".join(parts)


def _labelled(label: str, markup: str) -> str:
    return f"<p>{_e(label)} {markup}</p>"


def _columns(t: Translation) -> tuple[str, ...]:
    return (
        t.pgettext("column", "Product"),
        t.pgettext("column", "Version"),
        t.pgettext("column", "Track"),
        t.pgettext("column", "Scope"),
        t.pgettext("column", "Source"),
    )


def _row(values: tuple[object, ...], labels: tuple[str, ...]) -> str:
    cells = "".join(
        f'<td data-label="{_e(label)}">{_e(value) if value not in (None, "") else "&ndash;"}</td>'
        for label, value in zip(labels, values, strict=True)
    )
    return f"<tr>{cells}</tr>"


def _unknown(problem: str | None, t: Translation) -> str:
    return t.gettext("unknown ({problem})", problem=problem) if problem else t.gettext("unknown")


def _software_row(item: Installation, labels: tuple[str, ...], t: Translation) -> str:
    version = item.version if item.version else _unknown(item.problem, t)
    return _row((item.name, version, item.track, _scope(item.scope, t), item.source), labels)


def _scope(scope: str | None, t: Translation) -> str | None:
    if scope == "system":
        return t.pgettext("scope", "system")
    if scope == "user":
        return t.pgettext("scope", "user")
    return scope


def _os_row(os_info: OSInfo, labels: tuple[str, ...], t: Translation) -> str:
    version = os_info.version if os_info.version else _unknown(os_info.problem, t)
    return _row((os_info.pretty_name or os_info.name, version, os_info.track, None, os_info.source), labels)


def _table(inventory: Inventory, t: Translation) -> str:
    labels = _columns(t)
    rows = [_os_row(inventory.os, labels, t), *(_software_row(item, labels, t) for item in inventory.software)]
    head = "".join(f'<th scope="col">{_e(title)}</th>' for title in labels)
    return (
        '<div class="scroll"><table>\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table></div>"
    )


def _rules(report: Report, t: Translation) -> str:
    info = report.rules
    items = [
        (t.gettext("Source"), _e(words.rules_source(info.source, t))),
        (t.gettext("Publisher"), _e(info.publisher)),
        (t.gettext("Serial"), _e(info.serial)),
        (t.gettext("Published"), _e(t.date(info.published))),
        (t.gettext("Expires"), _e(t.date(info.expires))),
    ]
    lines = ["<dl>", *(f"<dt>{_e(term)}</dt><dd>{value}</dd>" for term, value in items), "</dl>"]
    lines += [_note(note, t) for note in words.rules_notes(report, t)]
    return "\n".join(lines)


def _note(note: str, t: Translation) -> str:
    text = t.gettext("Note: {note}", note=note)
    return f'<p class="note">{_e(text)}</p>'


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


def _heading(text: str) -> str:
    return f"<h2>{_e(text)}</h2>"


def _list(heading: str, items: list[str]) -> list[str]:
    return [f"<h2>{_e(heading)}</h2>", "<ul>", *(f"<li>{_e(item)}</li>" for item in items), "</ul>"]


def render_report(report: Report) -> str:
    t = translation(report.language)
    verdict = words.headline(report, t)
    body = [f"<h1>{_e(verdict)}</h1>"]
    if report.rules.in_doubt:  # said at the top as well: the verdict above rests on these rules
        body += [_note(note, t) for note in words.rules_notes(report, t)]
    for status in STATUS_ORDER:
        group = [f for f in report.findings if f.status == status]
        if group and status != "ok":
            body.append(_heading(t.gettext(words.HEADINGS[status])))
            body += [_card(finding, report.as_of, t) for finding in group]
    unreadable = report.inventory.unreadable
    if unreadable:
        body += _list(t.gettext(words.UNREADABLE_HEADING), [words.unreadable_sentence(item, t) for item in unreadable])
    ok = [f for f in report.findings if f.status == "ok"]
    if ok:
        labels = dict.fromkeys(f"{f.name} {f.installed}" if f.installed else f.name for f in ok)
        body += [_heading(t.gettext("Up to date")), f"<p>{_e(', '.join(labels))}</p>"]
    unjudged = words.unjudged(report, t)
    if unjudged:
        body += [_heading(t.gettext(words.UNJUDGED_HEADING)), f"<p>{_e(', '.join(unjudged))}</p>"]
    body += [_heading(t.gettext("Everything found")), _table(report.inventory, t)]
    if report.inventory.default_pdf:
        viewer = t.gettext("Opens PDFs by default: {viewer}", viewer=words.default_pdf_name(report.inventory))
        body.append(f"<p>{_e(viewer)}</p>")
    if report.inventory.warnings:
        body += _list(t.gettext(words.WARNINGS_HEADING), list(report.inventory.warnings))
    body += [_heading(t.gettext("Rules used")), _rules(report, t)]
    footer = t.gettext(
        "Generated {time}, judged for {date} by clientcheck.",
        time=_timestamp(report.generated_at),
        date=t.date(report.as_of),
    )
    body.append(f"<footer>{_e(footer)}</footer>")
    return _page(report.language, verdict, body)


def render_inventory(inventory: Inventory, generated_at: dt.datetime) -> str:
    # The inventory judges nothing, and is for administrators: the table, in English, with the time it was taken.
    t = translation(None)
    title = f"Software found on {words.os_label(inventory.os)}"
    body = [f"<h1>{_e(title)}</h1>", _table(inventory, t)]
    if inventory.unreadable:
        body += _list(words.UNREADABLE_HEADING, [item.sentence for item in inventory.unreadable])
    body.append(f"<footer>Generated {_e(_timestamp(generated_at))} by clientcheck.</footer>")
    return _page("en", title, body)
