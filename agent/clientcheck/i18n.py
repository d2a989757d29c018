"""The language a run speaks, and its words: what a person reads, in their language.

Which language (``choose_language``): the one asked for (``--lang``, the ``report.language`` setting), else
the locale of the environment as GNU gettext reads it, else the user's interface language on Windows and
macOS (which the caller reads), else English. Asked for, a language clientcheck has no messages in is a
mistake someone can fix: one warning, and English. From the environment it is not (a locale the machine was
installed with): English, silently, since fleet tools count any output on stderr as a failed run (Intune
does). One module with the words: a run needs both, and each module costs its own start-up time.

The words are kept in gettext catalogs (``agent/locale/<language>.po``), marked in the code with the usual
gettext names (``gettext``, ``ngettext``, ``pgettext``, ``N_``) so that Babel extracts them, and compiled at
build time (``hatch_build.py``) into the package's ``data/locale/<language>.mo``, the GNU binary format.
The build also writes into each catalog's header, as ``X-Clientcheck-Dates``, how that language writes a
day ("9 December", "9. Dezember", "9 de diciembre") and its regional variants, taken from the CLDR data
Babel carries: machines often lack the system locales that ``strftime`` would need.

Read without the ``gettext`` module (``clientcheck.mo``, imported only when needed). English, the language
the code is written in, reads nothing and imports nothing, unless a date has to be written out (its
``en.mo`` holds only the date header).

The messages are Python format strings with named fields (``{count}``, ``{version}``): a translation that
names a field the code does not give, or is otherwise broken, falls back to the English text rather than
fail a report (the tests check every catalog's fields against the English ones).
"""

from __future__ import annotations

import os

from clientcheck import DATA_DIR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    from clientcheck import dates as dt

SOURCE_LANGUAGE = "en"
LOCALE_DIR = os.path.join(DATA_DIR, "locale")
DATES_HEADER = "X-Clientcheck-Dates"
_CONTEXT = "\x04"  # between a message's context and its text, as msgfmt and Babel write it


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "mark, translate later"
    """Marks ``message`` for extraction without translating it: for texts defined before the language is
    known (a table of headings), translated where they are used."""
    return message


class DateWords:
    """How a language (and region) writes a day: month names in the form that follows a day number, and
    Python format strings with ``{day}``, ``{month}`` and ``{year}``, compiled from CLDR's patterns."""

    __slots__ = ("date", "day_month", "months")

    def __init__(self, months: list[str], day_month: str, date: str) -> None:
        self.months = months
        self.day_month = day_month
        self.date = date


ISO_DATES = DateWords([], "", "")  # no date data at all (a build without catalogs): dates stay ISO 8601
# CLDR's "en", the code's own language without a region, is built in: English reads no catalog, dates
# included (tests/unit/test_i18n.py holds it to Babel's CLDR). Regions (en-GB: 9 December) are in en.mo.
ENGLISH_DATES = DateWords(
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "{month} {day}",
    "{month} {day}, {year}",
)


# --- Which language ---------------------------------------------------------------------------------------


def normal_tag(text: str) -> str | None:
    """A BCP 47 language tag in its usual case (``de``, ``de-AT``, ``pt-BR``, ``zh-Hant-TW``), from a tag or
    a POSIX locale name without its codeset (``de_DE``); None when ``text`` is not one."""
    if not text.isascii() or len(text) > 35:
        return None
    language, *rest = text.replace("_", "-").split("-")
    if not (2 <= len(language) <= 3 and language.isalpha()) or len(rest) > 3:
        return None
    parts = [language.lower()]
    for part in rest:
        if not (2 <= len(part) <= 8 and part.isalnum()):
            return None
        if len(part) == 4 and part.isalpha():
            parts.append(part.title())  # a script: Hant, Latn
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            parts.append(part.upper())  # a region: AT, BR, 419
        else:
            parts.append(part.lower())
    return "-".join(parts)


def primary(tag: str) -> str:
    """The language of a tag, without region or script: ``pt-BR`` -> ``pt``."""
    return tag.split("-")[0]


def locale_tag(value: str) -> str | None:
    """The language tag of a POSIX locale name (``de_DE.UTF-8@euro`` -> ``de-DE``); None for the C and
    POSIX locales, which are English by definition, and for what is not a locale name."""
    name = value.split(".")[0].split("@")[0]
    if name in ("", "C", "POSIX"):
        return None
    return normal_tag(name)


def environment_languages(env: Mapping[str, str]) -> list[str]:
    """The languages the environment asks for, in order, as GNU gettext reads them: the locale of
    messages is the first of LC_ALL, LC_MESSAGES and LANG that is set; when it is a real locale (not C or
    POSIX, nor unset), LANGUAGE, a colon-separated list, takes precedence over it."""
    locale = next((env[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(name)), "")
    tag = locale_tag(locale)
    if tag is None:
        return []
    listed = [found for part in env.get("LANGUAGE", "").split(":") if (found := locale_tag(part))]
    return listed or [tag]


def choose_language(
    asked: str | None,
    env: Mapping[str, str],
    available: Callable[[], Iterable[str]],
    warn: Callable[[str], None],
    interface_languages: Callable[[], Iterable[str]] | None = None,
) -> str:
    """The tag of the language to speak (``de-AT``: the messages of ``de``, and Austria's way with dates).

    ``asked`` is the language named on the command line or in the settings; ``available`` gives the
    languages that have messages (read only when a language other than English is wanted);
    ``interface_languages`` the user's interface languages, asked only when the environment names no
    locale at all (a Windows session, a macOS launch agent)."""
    if asked:
        tag = normal_tag(asked.strip())
        if tag is None:
            warn(f"language {asked!r} is not a language tag (like de or pt-BR): the messages are in English")
            return SOURCE_LANGUAGE
        if primary(tag) == SOURCE_LANGUAGE or primary(tag) in set(available()):
            return tag
        known = ", ".join(sorted(set(available()) | {SOURCE_LANGUAGE}))
        warn(f"no messages in language {asked!r} (there are: {known}): the messages are in English")
        return SOURCE_LANGUAGE
    wanted = environment_languages(env)
    if not wanted and interface_languages is not None:
        wanted = [found for text in interface_languages() if (found := normal_tag(text))]
    for tag in wanted:
        if primary(tag) == SOURCE_LANGUAGE or primary(tag) in set(available()):
            return tag
    return SOURCE_LANGUAGE


# --- Catalogs --------------------------------------------------------------------------------------------


class Translation:
    """The messages of one language. ``gettext`` and ``ngettext`` take the English text (and the values
    of its fields) and give the text in this language, filled in."""

    __slots__ = ("_date_words", "_header", "_loaded", "_messages", "_plural", "language", "region")

    def __init__(self, language: str, region: str | None = None) -> None:
        self.language = language  # the catalog's language: "de"
        self.region = region  # for dates: "AT" writes "Jänner"
        self._loaded = language == SOURCE_LANGUAGE  # English has no messages to read
        self._messages: dict[str, str | tuple[str, ...]] = {}
        self._plural: Callable[[int], int] = english_plural
        self._header: dict[str, str] | None = None
        self._date_words: DateWords | None = None

    def _load(self) -> None:
        from clientcheck.mo import CatalogError, plural_function, read_catalog

        self._loaded = True
        messages, header = read_catalog(self.language)
        self._messages = messages
        self._header = header
        forms = header.get("Plural-Forms")
        if forms:
            try:
                count, function = plural_function(forms)
                self._plural = lambda n: min(max(function(n), 0), count - 1)
            except CatalogError:
                pass  # English plurals: a wrong form is better than no report

    def _lookup(self, key: str) -> str | tuple[str, ...] | None:
        if not self._loaded:
            self._load()
        return self._messages.get(key)

    def gettext(self, message: str, /, **values: object) -> str:
        found = self._lookup(message)
        text = found if isinstance(found, str) and found else message
        return _fill(text, message, values) if values else text

    def pgettext(self, context: str, message: str, /, **values: object) -> str:
        found = self._lookup(context + _CONTEXT + message)
        text = found if isinstance(found, str) and found else message
        return _fill(text, message, values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        english = singular if n == 1 else plural
        found = self._lookup(singular)
        text = english
        if isinstance(found, tuple):
            index = self._plural(n)
            if index < len(found) and found[index]:
                text = found[index]
        values.setdefault("count", n)
        return _fill(text, english, values)

    def _dates(self) -> DateWords:
        if self._date_words is None and self.language == SOURCE_LANGUAGE and self.region is None:
            self._date_words = ENGLISH_DATES
        if self._date_words is None:
            from clientcheck.mo import date_words, read_catalog

            if not self._loaded:
                self._load()
            header = self._header if self._header is not None else read_catalog(self.language)[1]
            self._date_words = date_words(header.get(DATES_HEADER), self.region)
        return self._date_words

    def day_month(self, day: dt.date) -> str:
        """``9 December``, ``9. Dezember``, ``December 9`` (American English): a day of this year."""
        words = self._dates()
        if not words.months:
            return day.isoformat()
        return _fill(words.day_month, "{day} {month}", {"day": day.day, "month": words.months[day.month - 1]})

    def date(self, day: dt.date) -> str:
        """``9 December 2026``, ``9. Dezember 2026``, ``9 de diciembre de 2026``."""
        words = self._dates()
        if not words.months:
            return day.isoformat()
        values = {"day": day.day, "month": words.months[day.month - 1], "year": day.year}
        return _fill(words.date, "{day} {month} {year}", values)

    def day(self, day: dt.date, today: dt.date) -> str:
        """The day as a person says it: without the year when it is this year's."""
        return self.day_month(day) if day.year == today.year else self.date(day)


def english_plural(n: int) -> int:
    return int(n != 1)


def _fill(text: str, english: str, values: dict[str, Any]) -> str:
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError):  # a broken translation: say it in English
        return english.format(**values)


_available: list[frozenset[str]] = []


def available() -> frozenset[str]:
    """The languages with a compiled catalog (``en`` always: the code's own)."""
    if not _available:
        try:
            names = os.listdir(LOCALE_DIR)
        except OSError:
            names = []
        found = {name[:-3] for name in names if name.endswith(".mo") and name[:-3].isalpha()}
        _available.append(frozenset(found | {SOURCE_LANGUAGE}))
    return _available[0]


ENGLISH = Translation(SOURCE_LANGUAGE)
_cache: dict[str, Translation] = {}


def translation(tag: str | None) -> Translation:
    """The translation for a language tag (``de``, ``de-AT``, ``pt-BR``): its language's catalog, with
    the region's way of writing dates. A tag without a catalog gets English (``choose_language``
    decides, and warns, before a report is made)."""
    if not tag:
        return ENGLISH
    found = _cache.get(tag)
    if found is None:
        parts = tag.replace("_", "-").split("-")
        language = parts[0].lower()
        region = next((part.upper() for part in parts[1:] if len(part) == 2 and part.isalpha()), None)
        if language != SOURCE_LANGUAGE and language not in available():
            language, region = SOURCE_LANGUAGE, None
        found = ENGLISH if language == SOURCE_LANGUAGE and region is None else Translation(language, region)
        _cache[tag] = found
    return found
