"""Translations: what a person reads, in their language.

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
    from collections.abc import Callable
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
    the region's way of writing dates. A tag without a catalog gets English (``clientcheck.language``
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
