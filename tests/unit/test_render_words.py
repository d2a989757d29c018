"""The text and HTML reports say the same thing: one source of the headline and the headings, so they
cannot disagree ("All up to date" in one, "Nothing owed" in the other), and both list what no rule judged."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from test_render_formats import (
    ALL_IDS,
    ALL_REPORTS,
    CHROME,
    OK_REPORT,
    STALE,
    finding,
    install,
    report,
)

from clientcheck.model import Report, Unreadable
from clientcheck.render import html, text, words

HIDES = "applications installed there"
EVINCE = install("evince", "Evince", "43.1", source="dpkg")
UNJUDGED = report(finding("debian", "Debian GNU/Linux", "ok", "12.8", "12.7"), software=(EVINCE, CHROME))
CLOSED = Unreadable(
    "/home/u/.local/share/applications", "cannot read: Permission denied", "applications installed there"
)
UNREADABLE = OK_REPORT.replace(inventory=OK_REPORT.inventory.replace(unreadable=(CLOSED,)))
STALE_OK = OK_REPORT.replace(rules=STALE)
FUTURE_OK = OK_REPORT.replace(rules=OK_REPORT.rules.replace(published=dt.date(2027, 1, 1), published_in_future=True))
FALLEN_BACK = OK_REPORT.replace(rules=OK_REPORT.rules.replace(fallback_reason="x.json: cannot read; using the bundled"))
MORE = [UNJUDGED, UNREADABLE, STALE_OK, FUTURE_OK, FALLEN_BACK]
MORE_IDS = ["unjudged", "unreadable", "stale", "future", "fallback"]


def _html_headline(page: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", page)
    assert match
    return unescape(match.group(1))


@pytest.mark.parametrize("subject", ALL_REPORTS + MORE, ids=ALL_IDS + MORE_IDS)
def test_text_and_html_headlines_are_the_same_words(subject: Report) -> None:
    first = text.render_report(subject).splitlines()[0]
    assert first.rstrip(".:") == _html_headline(html.render_report(subject)) == words.headline(subject)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (OK_REPORT, "All up to date on this computer (Debian GNU/Linux 12.8)"),
        (UNJUDGED, "Nothing owed on this computer (Debian GNU/Linux 12.8)"),
        (STALE_OK, "Nothing owed on this computer (Debian GNU/Linux 12.8)"),
        (FUTURE_OK, "Nothing owed on this computer (Debian GNU/Linux 12.8)"),
        (FALLEN_BACK, "Nothing owed on this computer (Debian GNU/Linux 12.8)"),
        (UNREADABLE, "Nothing required is owed on this computer (Debian GNU/Linux 12.8), but some items need a look"),
    ],
    ids=["ok", "unjudged", "stale", "future", "fallback", "unreadable"],
)
def test_all_up_to_date_only_when_nothing_is_in_doubt(subject: Report, expected: str) -> None:
    assert words.headline(subject) == expected


def test_html_lists_what_no_rule_judged_as_text_does() -> None:
    assert "Not covered by the rules: Evince 43.1, Google Chrome, version unknown\n" in text.render_report(UNJUDGED)
    page = html.render_report(UNJUDGED)
    assert "<h2>Not covered by the rules</h2>\n<p>Evince 43.1, Google Chrome, version unknown</p>" in page
    assert "Not covered by the rules" not in html.render_report(OK_REPORT)


@pytest.mark.parametrize("subject", [UNREADABLE], ids=["unreadable"])
def test_both_list_what_could_not_be_read(subject: Report) -> None:
    sentence = (
        "/home/u/.local/share/applications: cannot read: Permission denied; applications installed there may be"
        " missing from this report"
    )
    assert f"  - {sentence}\n" in text.render_report(subject)
    assert f"<li>{sentence}</li>" in html.render_report(subject)


def test_headings_are_shared() -> None:
    page = html.render_report(report(finding("chrome", "Google Chrome", "unknown", None, None)))
    assert f"<h2>{words.HEADINGS['unknown']}</h2>" in page
    assert f"\n{words.HEADINGS['unknown']}:\n" in text.render_report(
        report(finding("chrome", "Google Chrome", "unknown", None, None))
    )


def test_every_inventory_format_says_what_could_not_be_read() -> None:
    from test_render_formats import DEBIAN, GENERATED

    from clientcheck.config.table import FORMATS
    from clientcheck.model import Inventory
    from clientcheck.render import inventory_renderer

    inventory = Inventory(os=DEBIAN, software=(EVINCE,), unreadable=(CLOSED,))
    for format_name in FORMATS:
        out = inventory_renderer(format_name)(inventory, GENERATED)
        if format_name in ("csv", "intune", "jamf"):
            continue  # a table of installations, a map of versions, one attribute: what was found, only
        assert CLOSED.path in out or "clientcheck_unreadable 1" in out, format_name
