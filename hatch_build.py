"""The agent's build step for its translations, run by hatchling for every wheel and editable install.

The words a person reads are marked in the code (``gettext``, ``ngettext``, ``pgettext``, ``N_``) and
translated in gettext catalogs, ``agent/locale/<language>.po``, kept in the repository. At build time:

1. Babel extracts the marked messages from the package's source (the template, never committed);
2. each catalog is read and checked against it: a placeholder (``{count}``) that the English text does not
   have, or the other way round, stops the build; a message with no translation, or a translation of a
   message the code no longer has, is listed as a warning (the tests fail on both);
3. each catalog is compiled into ``clientcheck/data/locale/<language>.mo`` (GNU's binary format), with how
   the language writes dates in its header (``X-Clientcheck-Dates``: CLDR's month names and day patterns,
   from Babel's copy of CLDR, for the language and each region that writes them differently), and an
   ``en.mo`` holding English's dates only.

A wheel gets the compiled files from a temporary folder; an editable install gets them in the source tree
(``agent/clientcheck/data/locale``, ignored by git), where the package is imported from. They are build
products: never committed.

For translators and developers, without a build:

    python hatch_build.py update     # extract the messages, merge them into every catalog (new ones empty)
    python hatch_build.py check      # what each catalog lacks or has too many of
    python hatch_build.py compile DIR   # the .mo files into DIR
    python hatch_build.py add LANG   # a new catalog, with LANG's plural forms from CLDR
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parent
SOURCE = ROOT / "agent" / "clientcheck"
CATALOGS = ROOT / "agent" / "locale"
IN_TREE = SOURCE / "data" / "locale"
IN_WHEEL = "clientcheck/data/locale"
DOMAIN = "clientcheck"
SOURCE_LANGUAGE = "en"
DATES_HEADER = "X-Clientcheck-Dates"
COMMENT_TAGS = ("Translators:",)
# The date patterns clientcheck writes: a day of this year, and a whole date.
DAY_MONTH_SKELETON = "MMMMd"


class CatalogError(Exception):
    """A catalog that must not be compiled: the build stops, saying which and why."""


# --- Extraction ---------------------------------------------------------------------------------------


def extract() -> Catalog:
    """Every message marked in the package's source, as a template catalog (with translator comments)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    template = Catalog(project=DOMAIN, charset="utf-8", fuzzy=False)
    # errors.said(template, **values): a message that cli.main says in the person's language.
    keywords = {**DEFAULT_KEYWORDS, "said": None}
    found = extract_from_dir(
        str(SOURCE),
        [("**.py", "python")],
        keywords=keywords,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        path = (Path("agent/clientcheck") / filename).as_posix()
        template.add(message, None, [(path, lineno)], auto_comments=comments, context=context)
    return template


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a message (``{{`` is a brace, not a field)."""
    from string import Formatter

    try:
        return {field for _, field, _, _ in Formatter().parse(text) if field is not None}
    except ValueError:
        return {"<unbalanced braces>"}


def _ids(message_id: str | tuple[str, ...]) -> tuple[str, ...]:
    return (message_id,) if isinstance(message_id, str) else tuple(message_id)


def _key(message_id: str | tuple[str, ...], context: str | None) -> tuple[str, str | None]:
    return _ids(message_id)[0], context


def read_catalog(path: Path) -> Catalog:
    from babel.messages.pofile import read_po

    with path.open("rb") as stream:
        return read_po(stream, locale=path.stem, domain=DOMAIN)


def languages() -> list[str]:
    return sorted(path.stem for path in CATALOGS.glob("*.po"))


def problems(catalog: Catalog, template: Catalog) -> tuple[list[str], list[str]]:
    """(errors that stop the build, what is missing or left over) for one catalog against the template."""
    errors: list[str] = []
    gaps: list[str] = []
    wanted = {_key(message.id, message.context): message for message in template if message.id}
    have = {_key(message.id, message.context): message for message in catalog if message.id}
    for key, message in wanted.items():
        found = have.get(key)
        if found is None:
            gaps.append(f"missing: {key[0]!r}")
            continue
        strings = _ids(found.string) if found.string else ()
        if found.fuzzy or not strings or not all(strings):
            gaps.append(f"not translated{' (fuzzy)' if found.fuzzy else ''}: {key[0]!r}")
            continue
        english = set().union(*(placeholders(text) for text in _ids(message.id)))
        if message.pluralizable and len(strings) != catalog.num_plurals:
            errors.append(f"{key[0]!r}: {len(strings)} plural forms, the language has {catalog.num_plurals}")
        for text in strings:
            fields = placeholders(text)
            # A plural form may leave out {count} ("one update" for 1); no form may add a field or drop another.
            needed = english - {"count"} if message.pluralizable else english
            if fields - english or needed - fields:
                errors.append(f"{key[0]!r}: the translation has the fields {sorted(fields)}, not {sorted(english)}")
    gaps += [f"not in the code: {key[0]!r}" for key, found in have.items() if key not in wanted and not found.obsolete]
    return errors, gaps


# --- Dates from CLDR ------------------------------------------------------------------------------------


def _python_pattern(pattern: str) -> str:
    """A CLDR date pattern (``d 'de' MMMM 'de' y``) as a Python format string (``{day} de {month} de {year}``)."""
    from babel.dates import tokenize_pattern

    fields = {("d", 1): "{day}", ("d", 2): "{day:02d}", ("M", 4): "{month}", ("y", 1): "{year}", ("y", 4): "{year}"}
    parts = []
    for kind, value in tokenize_pattern(pattern):
        if kind == "chars":
            parts.append(str(value).replace("{", "{{").replace("}", "}}"))
        elif value in fields:
            parts.append(fields[value])
        else:
            raise CatalogError(f"the CLDR date pattern {pattern!r} uses {value}, which clientcheck cannot write")
    return "".join(parts)


def _date_words(locale_id: str) -> dict[str, object]:
    from babel import Locale

    locale = Locale.parse(locale_id)
    months = [str(locale.months["format"]["wide"][number]) for number in range(1, 13)]
    day_month = locale.datetime_skeletons[DAY_MONTH_SKELETON]
    return {
        "months": months,
        "day_month": _python_pattern(getattr(day_month, "pattern", str(day_month))),
        "date": _python_pattern(locale.date_formats["long"].pattern),
    }


def date_header(language: str) -> str:
    """The ``X-Clientcheck-Dates`` value: the language's month names and patterns, and for each region that
    differs (``en_GB``: 9 December; ``de_AT``: Jänner) only what differs."""
    from babel import localedata

    words = _date_words(language)
    regions: dict[str, dict[str, object]] = {}
    for identifier in sorted(localedata.locale_identifiers()):
        parts = identifier.split("_")
        if len(parts) != 2 or parts[0] != language or not (len(parts[1]) == 2 and parts[1].isalpha()):
            continue  # a script (sr_Latn) or a numeric region (es_419): not a tag clientcheck resolves
        regional = _date_words(identifier)
        differences = {name: value for name, value in regional.items() if value != words[name]}
        if differences:
            regions[parts[1]] = differences
    if regions:
        words["regions"] = regions
    return json.dumps(words, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# --- Compiling ----------------------------------------------------------------------------------------


def write_mo(path: Path, messages: dict[str, str], header: dict[str, str]) -> None:
    """A GNU .mo file (little-endian, revision 0, no hash table): the header as the translation of the empty
    message, then every message sorted by its key, as msgfmt orders them."""
    entries = {"": "".join(f"{name}: {value}\n" for name, value in header.items()), **messages}
    keys = sorted(entries)
    ids = [key.encode("utf-8") for key in keys]
    strs = [entries[key].encode("utf-8") for key in keys]
    count = len(keys)
    start = 7 * 4 + 16 * count
    offsets: list[int] = []
    data = b""
    for chunk in ids + strs:
        offsets += [len(chunk), start + len(data)]
        data += chunk + b"\0"
    words = [0x950412DE, 0, count, 7 * 4, 7 * 4 + 8 * count, 0, start]
    table = b"".join(value.to_bytes(4, "little") for value in words + offsets)
    path.write_bytes(table + data)


def compiled_messages(catalog: Catalog, template: Catalog) -> dict[str, str]:
    """The catalog's translations of the template's messages, keyed as a .mo file keys them."""
    wanted = {_key(message.id, message.context) for message in template if message.id}
    messages: dict[str, str] = {}
    for message in catalog:
        if not message.id or message.fuzzy or _key(message.id, message.context) not in wanted:
            continue
        strings = _ids(message.string) if message.string else ()
        if not strings or not all(strings):
            continue  # untranslated: English is said
        ids = _ids(message.id)
        key = ("\0".join(ids)) if message.pluralizable else ids[0]
        if message.context:
            key = f"{message.context}\x04{key}"
        messages[key] = "\0".join(strings)
    return messages


def compile_all(out: Path, warn: Callable[[str], None] | None = None) -> list[Path]:
    """Check every catalog against the code and compile it into ``out``, with ``en.mo``. Raises
    ``CatalogError`` for what must not be shipped; ``warn`` hears of untranslated messages."""
    from babel import Locale
    from babel.messages.plurals import get_plural

    template = extract()
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.mo"):
        stale.unlink()
    written = []
    errors = []
    english = get_plural(SOURCE_LANGUAGE)
    base = {"Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit"}
    path = out / f"{SOURCE_LANGUAGE}.mo"
    write_mo(
        path,
        {},
        {
            "Language": SOURCE_LANGUAGE,
            **base,
            "Plural-Forms": f"nplurals={english.num_plurals}; plural={english.plural_expr};",
            DATES_HEADER: date_header(SOURCE_LANGUAGE),
        },
    )
    written.append(path)
    for language in languages():
        Locale.parse(language)  # a catalog for a language CLDR does not know is a mistake
        catalog = read_catalog(CATALOGS / f"{language}.po")
        found, gaps = problems(catalog, template)
        errors += [f"{language}.po: {problem}" for problem in found]
        if warn is not None:
            for gap in gaps:
                warn(f"{language}.po: {gap}")
        header = {
            "Language": language,
            **base,
            "Plural-Forms": catalog.plural_forms,
            DATES_HEADER: date_header(language),
        }
        path = out / f"{language}.mo"
        write_mo(path, compiled_messages(catalog, template), header)
        written.append(path)
    if errors:
        raise CatalogError("; ".join(errors))
    return written


# --- The hatchling hook -----------------------------------------------------------------------------------

try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script, for translators: no hatchling needed
    BuildHookInterface = object  # type: ignore[assignment,misc]


class CatalogsBuildHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    """Compiles the catalogs into the wheel (or, for an editable install, into the source tree)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, object]) -> None:
        def warn(line: str) -> None:
            self.app.display_warning(f"translations: {line}")

        if version == "editable":
            compile_all(IN_TREE, warn)
            return
        self._folder = tempfile.TemporaryDirectory(prefix="clientcheck-locale-")
        force_include = build_data.setdefault("force_include", {})
        assert isinstance(force_include, dict)  # noqa: S101 - hatchling's own build data
        for path in compile_all(Path(self._folder.name), warn):
            force_include[str(path)] = f"{IN_WHEEL}/{path.name}"

    def finalize(self, version: str, build_data: dict[str, object], artifact_path: str) -> None:
        folder = getattr(self, "_folder", None)
        if folder is not None:
            folder.cleanup()


# --- For translators ------------------------------------------------------------------------------------


def update(names: Iterable[str] | None = None) -> None:
    """Merge the messages in the code into each catalog: new ones empty, changed ones fuzzy, gone ones
    dropped (Babel's ``update_catalog``)."""
    from babel.messages.pofile import write_po

    template = extract()
    for language in names or languages():
        path = CATALOGS / f"{language}.po"
        catalog = read_catalog(path)
        catalog.update(template, no_fuzzy_matching=False)
        catalog.obsolete.clear()
        with path.open("wb") as stream:
            write_po(stream, catalog, width=100, include_previous=True, include_lineno=False)
        print(f"updated {path.relative_to(ROOT)}")


def add(language: str) -> None:
    from babel import Locale
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    path = CATALOGS / f"{language}.po"
    if path.exists():
        raise SystemExit(f"{path} exists: run update")
    catalog = Catalog(locale=Locale.parse(language), domain=DOMAIN, project=DOMAIN, charset="utf-8", fuzzy=False)
    with path.open("wb") as stream:
        write_po(stream, catalog, width=100, include_lineno=False)
    update([language])


def main(argv: list[str]) -> int:
    if argv[:1] == ["update"]:
        update(argv[1:] or None)
        return 0
    if argv[:1] == ["add"] and len(argv) == 2:
        add(argv[1])
        return 0
    if argv[:1] == ["compile"] and len(argv) == 2:
        for path in compile_all(Path(argv[1]), lambda line: print(f"warning: {line}", file=sys.stderr)):
            print(path)
        return 0
    if argv[:1] == ["check"]:
        template = extract()
        status = 0
        for language in languages():
            errors, gaps = problems(read_catalog(CATALOGS / f"{language}.po"), template)
            for line in errors + gaps:
                print(f"{language}.po: {line}")
                status = 1
        return status
    print(__doc__.split("For translators and developers, without a build:")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    os.chdir(ROOT)
    raise SystemExit(main(sys.argv[1:]))
