"""The translations' own reader, held to the reference implementations: GNU msgfmt's .mo files and the
standard library's gettext read the same catalogs alike; the plural formulas give what gettext's own
compiler gives; the dates are what Babel's CLDR formatter writes, for every region the catalogs carry."""

from __future__ import annotations

import datetime as dt
import gettext
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from babel import Locale
from babel.dates import format_date, format_skeleton
from hypothesis import given
from hypothesis import strategies as st

from clientcheck import i18n
from clientcheck.i18n import Translation, translation
from clientcheck.mo import CatalogError, parse_mo, plural_function
from conftest import REPO, load_hatch_build, needs_tool

hatch_build = load_hatch_build()

CATALOGS = REPO / "agent" / "locale"
LANGUAGES = sorted(path.stem for path in CATALOGS.glob("*.po"))


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mo")
    hatch_build.compile_all(folder)
    return folder


# --- the .mo reader ---------------------------------------------------------------------------------------


@needs_tool("msgfmt", "gettext")
@pytest.mark.parametrize("language", LANGUAGES)
def test_reads_what_gnu_msgfmt_writes_as_it_reads_ours(language: str, compiled: Path, tmp_path: Path):
    gnu = tmp_path / f"{language}.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(gnu), str(CATALOGS / f"{language}.po")], check=True)
    theirs, their_header = parse_mo(gnu.read_bytes())
    ours, our_header = parse_mo((compiled / f"{language}.mo").read_bytes())
    assert ours == theirs
    assert their_header["Plural-Forms"] == our_header["Plural-Forms"]
    assert hatch_build.DATES_HEADER in our_header  # ours adds CLDR's dates


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_standard_library_reads_our_catalogs_alike(language: str, compiled: Path):
    with (compiled / f"{language}.mo").open("rb") as stream:
        reference = gettext.GNUTranslations(stream)
    ours = Translation(language)
    ours._messages, header = parse_mo((compiled / f"{language}.mo").read_bytes())
    ours._header = header
    ours._loaded = True
    count, function = plural_function(header["Plural-Forms"])
    ours._plural = lambda n: min(max(function(n), 0), count - 1)
    template = hatch_build.extract()
    checked = 0
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            for n in (0, 1, 2, 5, 21, 1_000_000):
                expected = reference.ngettext(message.id[0], message.id[1], n)
                assert ours.ngettext(message.id[0], message.id[1], n, **_fields(expected)) == _fill(expected, n)
        elif message.context:
            assert ours.pgettext(message.context, message.id) == reference.pgettext(message.context, message.id)
        else:
            assert ours.gettext(message.id) == reference.gettext(message.id)
        checked += 1
    assert checked > 100


def _fields(text: str) -> dict[str, str]:
    return {name: f"<{name}>" for name in hatch_build.placeholders(text) if name != "count"}


def _fill(text: str, n: int) -> str:
    return text.format(count=n, **_fields(text))


def test_a_big_endian_catalog_is_read_too():
    # msgfmt writes the machine's byte order; a catalog made on a big-endian machine must read the same.
    entries = {"": "Language: de\n", "Check again": "Erneut prüfen"}
    keys = sorted(entries)
    ids, strs = [key.encode() for key in keys], [entries[key].encode() for key in keys]
    start = 28 + 16 * len(keys)
    data, table = b"", []
    for chunk in ids + strs:
        table += [len(chunk), start + len(data)]
        data += chunk + b"\0"
    header = struct.pack(">7I", 0x950412DE, 0, len(keys), 28, 28 + 8 * len(keys), 0, start)
    messages, fields = parse_mo(header + struct.pack(f">{len(table)}I", *table) + data)
    assert messages == {"Check again": "Erneut prüfen"}
    assert fields == {"Language": "de"}


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 40, struct.pack("<7I", 0x950412DE, 0, 5, 28, 68, 0, 0), b"\xde\x12\x04\x95" + b"\xff" * 24],
    ids=["empty", "no-magic", "tables-past-the-end", "big-endian-garbage"],
)
def test_a_damaged_catalog_is_refused(data: bytes):
    with pytest.raises(CatalogError):
        parse_mo(data)


def test_a_damaged_installation_says_english(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    (tmp_path / "de.mo").write_bytes(b"not a catalog at all, but long enough to look")
    monkeypatch.setattr(i18n, "LOCALE_DIR", str(tmp_path))
    broken = Translation("de")
    assert broken.gettext("Check again") == "Check again"
    assert broken.ngettext("and {count} more", "and {count} more", 3) == "and 3 more"
    assert broken.date(dt.date(2026, 12, 9)) == "2026-12-09"  # no date data: ISO 8601


def test_a_translation_with_a_wrong_field_falls_back_to_english():
    broken = Translation("de")
    broken._loaded = True
    broken._messages = {"update to {version}": "auf {versio} aktualisieren"}
    assert broken.gettext("update to {version}", version="156") == "update to 156"


def test_english_reads_nothing_not_even_for_a_date(monkeypatch: pytest.MonkeyPatch):
    opened: list[str] = []
    from clientcheck import mo

    real_read = mo.read_catalog
    monkeypatch.setattr(mo, "read_catalog", lambda language: opened.append(language) or real_read(language))
    english = Translation("en")
    assert english.gettext("Check again") == "Check again"
    assert english.ngettext("{count} update owed", "{count} updates owed", 2) == "2 updates owed"
    assert opened == []
    assert english.date(dt.date(2026, 12, 9)) == "December 9, 2026"  # CLDR's "en": built in
    assert opened == []
    british = Translation("en", "GB")
    assert british.date(dt.date(2026, 12, 9)) == "9 December 2026"
    assert opened == ["en"]  # a region's ways are in en.mo


# --- plural forms -----------------------------------------------------------------------------------------

NUMBERS = [*range(250), 1000, 1001, 100_000, 999_999, 1_000_000, 1_000_001, 2_000_000, 10**9]
FORMULAS = [
    "nplurals=2; plural=(n != 1);",
    "nplurals=2; plural=(n > 1);",
    "nplurals=3; plural=(n == 0 || n == 1) ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2;",
    "nplurals=3; plural=(n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2);",
    # Slavic and Arabic, as GNU gettext's manual gives them: precedence, nesting, every operator.
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5;",
    "nplurals=2; plural=!(n == 1);",
    "nplurals=4; plural=(n-1)*2/3 % 4;",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_plural_formulas_agree_with_gettext(formula: str):
    _count, ours = plural_function(formula)
    reference = gettext.c2py(formula.split("plural=", 1)[1].rstrip(";"))
    assert [ours(n) for n in NUMBERS] == [reference(n) for n in NUMBERS]


@pytest.mark.parametrize(
    "formula",
    ["nplurals=2; plural=(n != 1", "nplurals=2; plural=n ? 1;", "nplurals=2; plural=os.system('x');", "plural=n;"],
)
def test_a_formula_that_is_not_one_is_refused(formula: str):
    with pytest.raises(CatalogError):
        plural_function(formula)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_uses_cldrs_plural_rule(language: str, compiled: Path):
    _, header = parse_mo((compiled / f"{language}.mo").read_bytes())
    _count, ours = plural_function(header["Plural-Forms"])
    rule = Locale.parse(language).plural_form
    categories = sorted(set(rule.tags) | {"other"}, key=["one", "two", "few", "many", "other"].index)
    for n in NUMBERS:
        assert categories[ours(n)] == rule(n), n


# --- dates --------------------------------------------------------------------------------------------

DAYS = [dt.date(2026, month, day) for month in range(1, 13) for day in (1, 9, 28)]


@pytest.mark.parametrize(
    ("tag", "locale"),
    [(language, language) for language in ["en", *LANGUAGES]]
    + [("en-GB", "en_GB"), ("en-AU", "en_AU"), ("de-AT", "de_AT"), ("de-CH", "de_CH"), ("pt-PT", "pt_PT")]
    + [("fr-CA", "fr_CA"), ("nl-BE", "nl_BE"), ("es-MX", "es_MX"), ("it-CH", "it_CH")],
)
def test_dates_are_written_as_cldr_writes_them(tag: str, locale: str, monkeypatch: pytest.MonkeyPatch, compiled: Path):
    monkeypatch.setattr(i18n, "LOCALE_DIR", str(compiled))
    monkeypatch.setattr(i18n, "_available", [])
    monkeypatch.setattr(i18n, "_cache", {})
    words = translation(tag)
    for day in DAYS:
        assert words.day_month(day) == format_skeleton("MMMMd", day, locale=locale)
        assert words.date(day) == format_date(day, format="long", locale=locale)


def test_a_day_of_this_year_is_said_without_its_year():
    german = translation("de")
    assert german.day(dt.date(2026, 12, 9), dt.date(2026, 12, 1)) == "9. Dezember"
    assert german.day(dt.date(2027, 1, 5), dt.date(2026, 12, 30)) == "5. Januar 2027"


def test_the_installed_catalogs_are_the_compiled_ones(compiled: Path):
    # An editable install compiles into the source tree: after a catalog changes, pip install -e . again.
    installed = Path(i18n.LOCALE_DIR)
    names = sorted(path.name for path in compiled.glob("*.mo"))
    assert names == sorted(path.name for path in installed.glob("*.mo"))
    for name in names:
        # The messages: the dates come from the CLDR of the Babel the build used, which may be another release.
        ours, our_header = parse_mo((installed / name).read_bytes())
        fresh, fresh_header = parse_mo((compiled / name).read_bytes())
        assert ours == fresh, f"{name}: the catalog changed since clientcheck was installed: reinstall it"
        assert our_header["Plural-Forms"] == fresh_header["Plural-Forms"]


@needs_tool("msgunfmt", "gettext")
def test_gnu_tools_read_the_compiled_catalogs(compiled: Path):
    msgunfmt = shutil.which("msgunfmt") or "msgunfmt"
    out = subprocess.run([msgunfmt, str(compiled / "de.mo")], capture_output=True, text=True, check=True).stdout
    assert 'msgstr "Erneut prüfen"' in out


@given(st.text())
def test_the_html_escape_is_the_standard_librarys(text: str):
    import html as standard

    from clientcheck.render.html import escape

    assert escape(text) == standard.escape(text, quote=True)
