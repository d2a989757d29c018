"""The html and intune formats on hand-built reports: well-formed, escaped, worst first, rendered by a real
browser without console errors; Intune's one-line output and the rules that match it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_render_formats import (
    ALL_IDS,
    ALL_REPORTS,
    GENERATED,
    LONG_REPORT,
    MIXED_REPORT,
    NON_ASCII_REPORT,
    OK_REPORT,
    finding,
    report,
)

from clientcheck.model import Rule, RuleSet
from clientcheck.render import html, intune
from clientcheck.version import Version
from conftest import needs_tool

CHROMIUM_BIN = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parent.parent / "output"
VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Balance:
    parser = _Balance()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    return parser


# --- html ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rep", ALL_REPORTS, ids=ALL_IDS)
def test_html_well_formed_and_self_contained(rep: object) -> None:
    page = html.render_report(rep)  # type: ignore[arg-type]
    parsed = parse(page)
    assert page.startswith("<!DOCTYPE html>\n")
    assert '<meta charset="utf-8">' in page
    assert '<html lang="en">' in page
    assert "script" not in parsed.tags
    assert not {"link", "img", "iframe", "object"} & set(parsed.tags)
    assert "http://" not in page.split("<main>")[0] and "https://" not in page.split("<main>")[0]


def test_html_escapes_markup_in_names_and_messages() -> None:
    evil = report(
        finding("x", "<script>alert(1)</script>", "owed", "1.0", "2.0", message="<script>bad()</script> & <b>"),
        finding("y", "Y", "ok", "1.0", "1.0"),
    )
    page = html.render_report(evil)
    parsed = parse(page)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;bad()&lt;/script&gt; &amp; &lt;b&gt;" in page
    assert "script" not in parsed.tags and "b" not in parsed.tags


def test_html_non_ascii_and_quotes() -> None:
    page = html.render_report(NON_ASCII_REPORT)
    parse(page)
    assert "Zäthura &quot;PDF&quot;" in page
    assert "Mettez à jour &lt;vite&gt; &amp; bien" in page


def test_html_worst_first() -> None:
    page = html.render_report(MIXED_REPORT)
    owed, unsupported = page.index("<h3>Chromium 130.0:"), page.index("<h3>Firefox ESR 128.3.0esr:")
    due, unknown = page.index("<h3>Okular 24.08.3:"), page.index("<h3>Google Chrome:")
    assert owed < unsupported < due < unknown < page.index("Everything found")
    assert page.index("<h1>2 updates owed on this computer") < owed
    assert "<code>sudo apt update &amp;&amp; sudo apt install --only-upgrade x</code>" in page
    assert '<a href="https://example.org/update">' in page


def test_html_ok_and_rules_notes() -> None:
    page = html.render_report(OK_REPORT)
    assert "<h1>All up to date on this computer (Debian GNU/Linux 12.8)</h1>" in page
    assert page.index("All up to date") < page.index("Up to date</h2>") < page.index("Rules used")
    assert "<dt>Serial</dt><dd>2026112501</dd>" in page
    assert "Generated 2026-11-25 08:30:00 UTC" in page
    stale = html.render_report(LONG_REPORT)
    assert "Note: these rules expired on February 28, 2026 (270 days ago)" in stale


def test_html_unsafe_link_is_text() -> None:
    rep = report(finding("x", "X", "owed", "1.0", "2.0").replace(url="javascript:alert(1)"))
    page = html.render_report(rep)
    assert "More: javascript:alert(1)" in page
    assert "href" not in page


def test_html_inventory_is_the_table() -> None:
    page = html.render_inventory(MIXED_REPORT.inventory, GENERATED)
    parsed = parse(page)
    assert parsed.tags.count("table") == 1
    assert parsed.tags.count("tr") == 1 + 1 + len(MIXED_REPORT.inventory.software)
    assert "Firefox ESR" in page and "unknown (no Version in /var/lib/dpkg/status)" in page
    assert "card" not in page.split("</style>")[1]


_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@needs_tool("chromium")
def test_html_renders_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(html.render_report(MIXED_REPORT), encoding="utf-8")
    shot = tmp_path / "page.png"
    run = subprocess.run(
        [
            CHROMIUM_BIN,
            *_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1024,900",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.exists(), run.stderr[-2000:]
    assert shot.stat().st_size > 10_000  # a blank page is a few KB; the report has text and colour
    OUTPUT.mkdir(exist_ok=True)
    shutil.copyfile(shot, OUTPUT / "report.png")

    dom = subprocess.run(
        [
            CHROMIUM_BIN,
            *_FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "2 updates owed on this computer" in dom.stdout
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert console == []


# --- intune -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rep", ALL_REPORTS, ids=ALL_IDS)
def test_intune_one_line_of_json(rep: object) -> None:
    text = intune.render_report(rep)  # type: ignore[arg-type]
    assert text.endswith("}\n") and text.count("\n") == 1
    assert " \n" not in text and ": " not in text.split('"')[0]
    assert len(text.encode("utf-8")) < 1024 * 1024
    document = json.loads(text)
    assert all(name.isascii() and name.isalnum() and name[0].isalpha() for name in document)


def test_intune_values() -> None:
    document = json.loads(intune.render_report(MIXED_REPORT))
    assert document == {
        "ClientcheckStatus": "owed",
        "UpdatesOwed": 2,  # Chromium owed and Firefox ESR out of support, both required; Evince is recommended
        "UpdatesDue": 1,  # Okular, owed from 2026-12-02
        "DaysLeft": 7,  # from the day judged, 2026-11-25
        "DueWarning": False,
        "Chrome": "0.0",  # the version could not be read
        "Chromium": "130.0",
        "Evince": "43.1",
        "Firefox": "128.3.0",  # "128.3.0esr" as Intune's Version type reads it
        "Okular": "24.8.3",
        "Unreadable": 0,
        "RulesStale": False,
        "RulesFallback": False,
        "RulesPublishedInFuture": False,
    }
    assert json.loads(intune.render_report(OK_REPORT)) == {
        "ClientcheckStatus": "ok",
        "UpdatesOwed": 0,
        "UpdatesDue": 0,
        "DaysLeft": -1,  # nothing is due
        "DueWarning": False,
        "Debian": "12.8",
        "Okular": "24.8.3",
        "Unreadable": 0,
        "RulesStale": False,
        "RulesFallback": False,
        "RulesPublishedInFuture": False,
    }


def test_intune_non_ascii_names() -> None:
    text = intune.render_report(NON_ASCII_REPORT)
    assert json.loads(text)["Zathura"] == "0.5.4"
    assert intune.setting_name("zäthura") == "Zathura"
    assert intune.setting_name("foxit-reader") == "FoxitReader"
    assert intune.setting_name("acrobat_reader dc") == "AcrobatReaderDc"
    assert intune.setting_name("7zip") == "Product7zip"
    assert intune.setting_name("中文") == "Product"


def test_intune_lowest_installation_wins() -> None:
    rep = report(
        finding("firefox", "Firefox", "ok", "150.0", "149"),
        finding("firefox", "Firefox", "owed", "140.1", "149"),
    )
    assert json.loads(intune.render_report(rep))["Firefox"] == "140.1"
    rep = report(
        finding("firefox", "Firefox", "ok", "150.0", "149"), finding("firefox", "Firefox", "unknown", None, None)
    )
    assert json.loads(intune.render_report(rep))["Firefox"] == "0.0"


def test_intune_inventory() -> None:
    document = json.loads(intune.render_inventory(MIXED_REPORT.inventory, GENERATED))
    assert document == {"Chrome": "0.0", "Chromium": "130.0", "Firefox": "128.3.0", "Okular": "24.8.3"}


RULESET = RuleSet(
    publisher="Example",
    serial=1,
    published=dt.date(2026, 11, 1),
    expires=dt.date(2027, 1, 1),
    rules=(
        Rule(
            "firefox",
            ("firefox",),
            Version("158.0"),
            track="release",
            message=(("en", "Update Firefox"), ("de", "Aktualisieren Sie Firefox"), ("fr", "Mettez Firefox à jour")),
            url="https://support.mozilla.org/kb/update-firefox-latest-release",
        ),
        Rule("firefox-esr", ("firefox",), Version("153.6"), track="esr", message=(("en", "Update Firefox ESR"),)),
        Rule("chrome", ("chrome", "chromium"), Version("156.0"), message=(("pt-BR", "Atualize"),)),
        Rule("long", ("sumatrapdf",), Version("3.6.1"), message=(("en", "y" * 3000),)),
        Rule("windows-server", ("windows",), None, track="server"),
    ),
)


def test_intune_rules() -> None:
    rules = intune.intune_rules(RULESET, languages=("en", "de"))
    json.dumps(rules)
    by_name = {rule["SettingName"]: rule for rule in rules["Rules"]}
    assert list(by_name) == ["UpdatesOwed", "Chrome", "Chromium", "Firefox", "Sumatrapdf"]
    assert by_name["UpdatesOwed"]["Operator"] == "IsEquals" and by_name["UpdatesOwed"]["Operand"] == "0"
    firefox = by_name["Firefox"]
    # Two tracks share one setting: the lower minimum, so Intune never fails what clientcheck passes.
    assert firefox["Operand"] == "153.6"
    assert (firefox["Operator"], firefox["DataType"]) == ("GreaterEquals", "Version")
    assert [s["Language"] for s in firefox["RemediationStrings"]] == ["en_US", "de_DE"]
    fx_release = intune.intune_rules(RULESET, languages=("en",), products=["firefox"])["Rules"][1]
    assert fx_release["SettingName"] == "Firefox"
    chrome = by_name["Chrome"]
    assert [s["Language"] for s in chrome["RemediationStrings"]] == ["pt_BR", "en_US", "de_DE"]
    assert "MoreInfoUrl" not in chrome


def test_intune_rules_languages_of_the_message() -> None:
    only_release = RuleSet("E", 1, dt.date(2026, 1, 1), dt.date(2027, 1, 1), RULESET.rules[:1])
    rule = intune.intune_rules(only_release)["Rules"][1]
    assert rule["Operand"] == "158.0"
    assert rule["MoreInfoUrl"].startswith("https://")
    strings = {s["Language"]: s["Description"] for s in rule["RemediationStrings"]}
    assert strings == {
        "en_US": "Update Firefox",
        "de_DE": "Aktualisieren Sie Firefox",
        "fr_FR": "Mettez Firefox à jour",
    }


def test_intune_rules_description_cut_to_2048() -> None:
    rules = intune.intune_rules(RULESET)["Rules"]
    long = next(rule for rule in rules if rule["SettingName"] == "Sumatrapdf")
    description = long["RemediationStrings"][0]["Description"]
    assert len(description) == 2048
    assert description.endswith("…")
    assert len(long["RemediationStrings"][0]["Title"]) <= 200


def test_the_default_pdf_viewer_is_named_not_given_by_its_id() -> None:
    from clientcheck.model import Installation

    atril = Installation("atril", "pdf-viewer", "Atril", Version("1.26.0"), source="dpkg")
    with_atril = OK_REPORT.replace(inventory=OK_REPORT.inventory.replace(software=(atril,), default_pdf="atril"))
    assert "<p>Opens PDFs by default: Atril</p>" in html.render_report(with_atril)
    # Not found installed (a flatpak the inspection could not read), but a product the catalog knows.
    known = OK_REPORT.replace(inventory=OK_REPORT.inventory.replace(default_pdf="okular"))
    assert "<p>Opens PDFs by default: Okular</p>" in html.render_report(known)
    # A desktop id that is no product of ours is shown as it is.
    other = OK_REPORT.replace(inventory=OK_REPORT.inventory.replace(default_pdf="org.example.Viewer.desktop"))
    assert "<p>Opens PDFs by default: org.example.Viewer.desktop</p>" in html.render_report(other)
