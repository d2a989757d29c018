"""A host's latest report as the agent's own HTML report shows it, drawn by the agent's renderer
(``clientcheck.render.html`` from the installed clientcheck package), not written again here.

The store keeps the report as JSON (``clientcheck.report/1``); the renderer takes the agent's ``Report``
record, so the JSON is read back into one. Every value the renderer writes goes through its own escaping
(``html.escape`` after control characters are written out), and only web links become links. The page's
body is what the dashboard embeds (its styles are the dashboard's, under the Content-Security-Policy that
allows no inline style); the whole page, styles included, is offered as the agent would have written it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from clientcheck.model import (
    Finding,
    Installation,
    Inventory,
    OSInfo,
    PendingRestart,
    Report,
    RulesInfo,
    Unreadable,
)
from clientcheck.render import html

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.version import Version


class ReportError(ValueError):
    """A stored report that cannot be shown as the agent would (a field of the wrong kind)."""


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _version(value: Any) -> Version | None:
    # The renderer only ever writes a version as text: the vendor version the report carries is shown as
    # it is, even one the agent's Version type would not read back.
    return cast("Version | None", _text(value))


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ReportError(f"not a date: {str(value)[:40]!r}") from None


def _os(data: dict[str, Any]) -> OSInfo:
    return OSInfo(
        platform=data.get("platform") or "linux",
        id=str(data.get("id") or ""),
        name=str(data.get("name") or data.get("id") or "unknown system"),
        version=_version(data.get("version")),
        pretty_name=_text(data.get("pretty_name")),
        track=_text(data.get("track")),
        codename=_text(data.get("codename")),
        id_like=tuple(str(item) for item in data.get("id_like") or ()),
        kernel=_text(data.get("kernel")),
        source=_text(data.get("source")),
        problem=_text(data.get("problem")),
    )


def _software(item: dict[str, Any]) -> Installation:
    return Installation(
        product=str(item.get("product", "")),
        category=item.get("category") or "browser",
        name=str(item.get("name") or item.get("product") or ""),
        version=_version(item.get("version")),
        track=_text(item.get("track")),
        scope=item.get("scope") or "system",
        source=_text(item.get("source")),
        path=_text(item.get("path")),
        package=_text(item.get("package")),
        package_version=_text(item.get("package_version")),
        desktop_id=_text(item.get("desktop_id")),
        problem=_text(item.get("problem")),
    )


def _finding(item: dict[str, Any]) -> Finding:
    return Finding(
        rule=str(item.get("rule", "")),
        product=str(item.get("product", "")),
        name=str(item.get("name") or item.get("product") or ""),
        status=item.get("status") or "unknown",
        severity=item.get("severity") or "required",
        installed=_version(item.get("installed")),
        required=_version(item.get("required")),
        message=str(item.get("message") or ""),
        url=_text(item.get("url")),
        deadline=_date(item.get("deadline")),
        remedy=_text(item.get("remedy")),
        scope=item.get("scope"),
        path=_text(item.get("path")),
        restart=_text(item.get("restart")),
    )


def _generated(text: Any) -> dt.datetime:
    try:
        moment = dt.datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise ReportError(f"not a timestamp: {str(text)[:40]!r}") from None
    return moment.replace(tzinfo=dt.timezone.utc)


def agent_report(document: dict[str, Any]) -> Report:
    """The agent's Report record of a stored report (``clientcheck.report/1``, as validated at ingest)."""
    try:
        unreadable = tuple(
            Unreadable(str(u.get("path", "")), str(u.get("problem", "")), str(u.get("hides", "")))
            for u in document.get("unreadable") or ()
        )
        lines = {item.line for item in unreadable}
        inventory = Inventory(
            os=_os(document.get("os") or {}),
            software=tuple(_software(item) for item in document.get("software") or ()),
            default_pdf=_text(document.get("default_pdf_viewer")),
            default_pdf_source=_text(document.get("default_pdf_viewer_source")),
            # The JSON's warnings repeat the unreadable places' lines; the record keeps them apart.
            warnings=tuple(str(w) for w in document.get("warnings") or () if str(w) not in lines),
            restarts=tuple(
                PendingRestart(
                    product=str(r.get("product", "")),
                    kind=r.get("kind") or "program",
                    path=_text(r.get("path")),
                    installed=_version(r.get("installed")),
                    running=_version(r.get("running")),
                    reason=str(r.get("reason") or ""),
                )
                for r in document.get("restarts") or ()
            ),
            unreadable=unreadable,
        )
        rules = document.get("rules") or {}
        published = _date(rules.get("published")) or dt.date.min
        info = RulesInfo(
            source=str(rules.get("source") or "unknown"),
            serial=int(rules.get("serial") or 0),
            sha256=str(rules.get("sha256") or ""),
            publisher=str(rules.get("publisher") or ""),
            published=published,
            expires=_date(rules.get("expires")) or published,
            stale=bool(rules.get("stale")),
            fallback_reason=_text(rules.get("fallback_reason")),
            published_in_future=bool(rules.get("published_in_future")),
        )
        generated = _generated(document.get("generated_at"))
        return Report(
            generated_at=generated,
            inventory=inventory,
            findings=tuple(_finding(item) for item in document.get("findings") or ()),
            rules=info,
            language=str(document.get("language") or "en"),
            as_of=_date(document.get("as_of")) or generated.date(),
        )
    except (AttributeError, TypeError, ValueError) as error:
        if isinstance(error, ReportError):
            raise
        raise ReportError(f"the stored report cannot be read back: {error}") from None


def page(document: dict[str, Any]) -> str:
    """The agent's whole HTML page for this report, as ``clientcheck check --format html`` writes it."""
    return html.render_report(agent_report(document))


def body(document: dict[str, Any]) -> str:
    """The content of the agent's page (what is inside its <main>), to embed in a dashboard page.

    Cut at the renderer's own <main> and </main>: every value inside is escaped by the renderer, so no
    text from the host can spell those tags."""
    text = page(document)
    start, end = text.find("<main>"), text.rfind("</main>")
    if start < 0 or end < start:
        raise ReportError("the agent's renderer wrote no <main>")
    return text[start + len("<main>") : end].strip()
