"""The translation catalogs (agent/locale/*.po) against the code: every message the code marks is translated
in every language, with the same fields, and nothing else; the build refuses a catalog whose fields are
wrong. The messages are extracted from the source as the build extracts them (hatch_build.py, Babel)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from conftest import REPO, load_hatch_build

hatch_build = load_hatch_build()
CATALOGS = REPO / "agent" / "locale"
LANGUAGES = sorted(path.stem for path in CATALOGS.glob("*.po"))
# The languages the login notice spoke before its words moved into the catalogs: none may be lost.
NOTICE_LANGUAGES = ["de", "es", "fr", "it", "nl", "pt"]


@pytest.fixture(scope="module")
def template():
    return hatch_build.extract()


def test_every_language_the_notice_spoke_has_a_catalog():
    assert LANGUAGES == NOTICE_LANGUAGES


def test_the_code_marks_the_words_people_read(template):
    ids = {message.id for message in template if message.id}
    # A sample from each place: the reports' headings, the notice, the deadlines, the actions, the errors.
    for expected in [
        "Updates owed",
        ("{count} update owed on this computer", "{count} updates owed on this computer"),
        ("owed from {date}: {count} day left", "owed from {date}: {count} days left"),
        "Check again",
        "Update with {name}",
        "Opens PDFs by default: {viewer}",
        "clientcheck: error: {message}",
        "unknown option {name!r} for '{command}'",
        "Check for updates now",
    ]:
        assert expected in ids
    assert len(ids) > 120


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_the_same_fields(language: str, template):
    catalog = hatch_build.read_catalog(CATALOGS / f"{language}.po")
    errors, gaps = hatch_build.problems(catalog, template)
    assert errors == []
    assert gaps == []


def test_a_catalog_that_misses_a_message_fails_this_test(template, tmp_path: Path):
    # The check above, shown to fail: the German catalog without one message, and with one translation
    # whose field is misspelt.
    text = (CATALOGS / "de.po").read_text(encoding="utf-8")
    cut = text.replace('msgid "Check again"\nmsgstr "Erneut prüfen"\n', "")
    assert cut != text
    cut = cut.replace('msgstr "auf {version} aktualisieren"', 'msgstr "auf {versoin} aktualisieren"')
    damaged = tmp_path / "de.po"
    damaged.write_text(cut, encoding="utf-8")
    errors, gaps = hatch_build.problems(hatch_build.read_catalog(damaged), template)
    assert gaps == ["missing: 'Check again'"]
    assert errors == ["'update to {version}': the translation has the fields ['versoin'], not ['version']"]


def test_the_build_refuses_a_catalog_with_wrong_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    catalogs = tmp_path / "locale"
    shutil.copytree(CATALOGS, catalogs)
    german = catalogs / "de.po"
    german.write_text(
        german.read_text(encoding="utf-8").replace('msgstr "{name} öffnen"', 'msgstr "{nom} öffnen"'), encoding="utf-8"
    )
    monkeypatch.setattr(hatch_build, "CATALOGS", catalogs)
    with pytest.raises(hatch_build.CatalogError, match=r"de\.po: 'Open \{name\}': the translation has the fields"):
        hatch_build.compile_all(tmp_path / "out")


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalog_is_what_babel_reads_and_for_its_own_language(language: str):
    with (CATALOGS / f"{language}.po").open("rb") as stream:
        catalog = read_po(stream)
    assert str(catalog.locale) == language
    assert catalog.charset.lower() == "utf-8"
    assert not [message.id for message in catalog if message.fuzzy and message.id]


def test_nothing_compiled_is_committed():
    # The .mo files are build products (hatch_build.py); git ignores the folder an editable install fills.
    ignored = (REPO / ".gitignore").read_text()
    assert "agent/clientcheck/data/locale/" in ignored
    assert not list(CATALOGS.glob("*.mo"))
