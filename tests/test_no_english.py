"""No English left: on every fixture machine, in every shipped language, the text report, the HTML page and
the login notice say nothing in English but what comes from outside (names, versions, paths, commands, a
rule file's own text).

Two checks, each catching what the other cannot:

- a pseudo-language, "qps" (as Windows' own pseudo-locales: every letter of every catalog message swapped
  for a look-alike, á for a): whatever plain ASCII words are left once the report's own data is taken out
  were never marked for translation;
- each real language: no English message of the catalogs is left in it (a message its catalog lacks).
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from clientcheck import i18n
from clientcheck.evaluate import evaluate
from clientcheck.i18n import ENGLISH, Translation
from clientcheck.inspect import inspect_machine
from clientcheck.login import notice
from clientcheck.mo import parse_mo
from clientcheck.model import Report, RulesInfo
from clientcheck.render import html, text
from clientcheck.rules.validate import parse_rules
from conftest import DEFAULT_RULES, FIXTURES, REPO, load_hatch_build

hatch_build = load_hatch_build()
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)
LANGUAGES = sorted(path.stem for path in (REPO / "agent" / "locale").glob("*.po"))
STEPPED = REPO / "rules" / "examples" / "stepped-warnings.json"


def _machines() -> list[pytest.param]:
    """Every fixture machine that can be inspected (an export that is refused whole makes no report)."""
    import json

    found = []
    for platform in ("linux", "macos", "windows"):
        for case in sorted((FIXTURES / platform).iterdir()):
            expected = case / "expected.json"
            if expected.is_file() and "error" in json.loads(expected.read_text(encoding="utf-8")):
                continue
            if (case / "root").is_dir() or (case / "registry.reg").is_file():
                found.append(pytest.param(platform, case, id=f"{platform}-{case.name}"))
    return found


MACHINES = _machines()


def _report(platform: str, case, language: str, rules_path=DEFAULT_RULES) -> Report:
    registry = case / "registry.reg"
    root = case / "root"
    inventory = inspect_machine(
        platform,
        str(root) if root.is_dir() else None,
        {},
        registry=str(registry) if registry.is_file() else None,
    )
    data = rules_path.read_bytes()
    ruleset = parse_rules(data)
    info = RulesInfo("bundled", ruleset.serial, "0" * 64, ruleset.publisher, ruleset.published, ruleset.expires)
    today = NOW.date()
    return Report(NOW, inventory, evaluate(inventory, ruleset, today, language), info, language, today)


class _Shown(HTMLParser):
    """What a page shows: its text, and the column names CSS writes before each value on a phone."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        self.parts += [value for name, value in attrs if name == "data-label" and value]

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.parts.append(data)


def _shown(page: str) -> str:
    parser = _Shown()
    parser.feed(page)
    return "\n".join(parser.parts)


def _outputs(report: Report) -> dict[str, str]:
    message = notice(report, "file:///home/ana/.local/state/clientcheck/last.html", ("/usr/bin/clientcheck",))
    shown = {"text": text.render_report(report), "html": _shown(html.render_report(report))}
    if message is not None:
        shown["notice"] = "\n".join(
            [message.title, message.body, message.link_label, *(a.label for a in message.actions)]
        )
    return shown


def _data(report: Report) -> list[str]:
    """Everything in the report that comes from the machine or the rule file, longest first."""
    inventory = report.inventory
    values: list[object] = [
        inventory.os.name,
        inventory.os.pretty_name,
        inventory.os.version,
        inventory.os.source,
        inventory.os.problem,
        inventory.os.track,
        report.rules.source if report.rules.source != "bundled" else None,
        report.rules.publisher,
        report.rules.fallback_reason,
        *inventory.warnings,
        *(restart.reason for restart in inventory.restarts),
    ]
    for item in inventory.software:
        values += [item.name, item.version, item.track, item.source, item.package, item.path, item.problem]
    for item in inventory.unreadable:
        values += [item.path, item.problem]
    for finding in report.findings:
        values += [finding.name, finding.installed, finding.required, finding.message, finding.url]
        values += [finding.remedy, finding.path, finding.restart, finding.fix.name if finding.fix else None]
    return sorted({str(value) for value in values if value}, key=len, reverse=True)


# --- the pseudo-language --------------------------------------------------------------------------------

_LOOK_ALIKES = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "áƀçđéƒĝĥíĵķĺɱñóþǫŕšţúṽŵẋýžÁƁÇĐÉƑĜĤÍĴĶĹṀÑÓÞǪŔŠŢÚṼŴẊÝŽ",
)


def pseudo(message: str) -> str:
    """Every letter outside the ``{fields}`` swapped for a look-alike."""
    parts = re.split(r"(\{[^{}]*\})", message)
    return "".join(part if part.startswith("{") else part.translate(_LOOK_ALIKES) for part in parts)


@pytest.fixture(scope="module")
def pseudo_language():
    template = hatch_build.extract()
    messages: dict[str, str | tuple[str, ...]] = {}
    for message in template:
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        key = f"{message.context}\x04{ids[0]}" if message.context else ids[0]
        messages[key] = tuple(pseudo(form) for form in ids) if len(ids) > 1 else pseudo(ids[0])
    # The installed package's compiled English catalog (a build product: not in the source tree of a plain install).
    _, english_header = parse_mo((Path(i18n.LOCALE_DIR) / "en.mo").read_bytes())
    dates = english_header[hatch_build.DATES_HEADER]
    for month in ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December"):  # fmt: skip
        dates = dates.replace(f'"{month}"', f'"{pseudo(month)}"')
    words = Translation("qps")
    words._messages = messages
    words._header = {hatch_build.DATES_HEADER: dates}
    words._loaded = True
    saved = (list(i18n._available), dict(i18n._cache))
    i18n._available[:] = [i18n.available() | {"qps"}]
    i18n._cache["qps"] = words
    yield words
    i18n._available[:] = saved[0]
    i18n._cache.clear()
    i18n._cache.update(saved[1])


# A word that is English and not data, and why it may stay.
ALLOWED = {
    "clientcheck": "the program's name",
    "UTC": "the time zone of the timestamp in the page's footer",
}


@pytest.mark.parametrize(("platform", "case"), MACHINES)
@pytest.mark.parametrize("rules", [DEFAULT_RULES, STEPPED], ids=["bundled", "stepped"])
def test_every_word_of_clientcheck_s_own_is_marked_for_translation(pseudo_language, platform, case, rules):
    report = _report(platform, case, "qps", rules)
    assert report.language == "qps"
    data = _data(report)
    for name, shown in _outputs(report).items():
        for value in data:
            shown = shown.replace(value, " ")
        english = sorted(set(re.findall(r"[A-Za-z]{3,}", shown)) - set(ALLOWED))
        assert english == [], f"{name}: English words not from the data: {english}\n{shown}"


# --- every shipped language ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def english_messages() -> dict[str, list[str]]:
    """Per language, the English text of each message (its literal parts of 12 letters or more) whose
    translation is not the same text: what must not be seen in that language."""
    template = hatch_build.extract()
    found: dict[str, list[str]] = {}
    for language in LANGUAGES:
        words = i18n.translation(language)
        chunks = set()
        for message in template:
            if not message.id:
                continue
            ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
            if message.context:
                translated = words.pgettext(message.context, ids[0]) != ids[0]
            elif len(ids) > 1:
                translated = words.ngettext(ids[0], ids[1], 5, **_dummy(ids[1])) != ids[1].format(
                    count=5, **_dummy(ids[1])
                )
            else:
                translated = words.gettext(ids[0]) != ids[0]
            if translated:
                chunks |= {part.strip() for part in re.split(r"\{[^{}]*\}", ids[-1]) if len(part.strip()) >= 12}
        found[language] = sorted(chunks)
    return found


def _dummy(message: str) -> dict[str, str]:
    return {field: "·" for field in hatch_build.placeholders(message) if field != "count"}


@pytest.mark.parametrize(("platform", "case"), MACHINES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_english_message_is_left_in_a_shipped_language(english_messages, platform, case, language):
    report = _report(platform, case, language, STEPPED)
    words = i18n.translation(language)
    assert words is not ENGLISH
    for name, shown in _outputs(report).items():
        left = [chunk for chunk in english_messages[language] if chunk in shown]
        assert left == [], f"{language} {name}: {left}"
    # The bundled rules speak every shipped language too: their messages are in it, not in English.
    bundled = _report(platform, case, language)
    english = _report(platform, case, "en")
    for ours, theirs in zip(bundled.findings, english.findings, strict=True):
        if ours.message and ours.status != "ok":
            assert ours.message != theirs.message or ours.status == "unknown", (language, ours.message)
