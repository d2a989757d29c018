"""Translations: what a person reads, in their language.

The words are kept in gettext catalogs (``agent/locale/<language>.po``), marked in the code with the usual
gettext names (``gettext``, ``ngettext``, ``pgettext``, ``N_``) so that Babel extracts them, and compiled at
build time (``hatch_build.py``) into the package's ``data/locale/<language>.mo``, the GNU binary format.
The build also writes into each catalog's header, as ``X-Clientcheck-Dates``, how that language writes a
day ("9 December", "9. Dezember", "9 de diciembre") and its regional variants, taken from the CLDR data
Babel carries: machines often lack the system locales that ``strftime`` would need.

Read here without the ``gettext`` module (which imports ``re``, ``locale`` and more at every start) and
without ``struct``: a ``.mo`` file is two tables of offsets, read as one ``memoryview`` cast. English, the
language the code is written in, reads nothing at all, unless a date has to be written out (its ``en.mo``
holds only the date header).

The messages are Python format strings with named fields (``{count}``, ``{version}``): a translation that
names a field the code does not give, or is otherwise broken, falls back to the English text rather than
fail a report (the tests check every catalog's fields against the English ones).
"""

from __future__ import annotations

import os
import sys

from clientcheck import DATA_DIR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from clientcheck import dates as dt

SOURCE_LANGUAGE = "en"
LOCALE_DIR = os.path.join(DATA_DIR, "locale")
DATES_HEADER = "X-Clientcheck-Dates"
_MO_LIMIT = 4 * 1024 * 1024  # our catalogs are a few tens of kilobytes
_MAGIC_LITTLE, _MAGIC_BIG = 0x950412DE, 0xDE120495
_CONTEXT = "\x04"  # between a message's context and its text, as msgfmt and Babel write it


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "mark, translate later"
    """Marks ``message`` for extraction without translating it: for texts defined before the language is
    known (a table of headings), translated where they are used."""
    return message


class CatalogError(ValueError):
    """A compiled catalog that cannot be read: a damaged installation."""


def parse_mo(data: bytes) -> tuple[dict[str, str | tuple[str, ...]], dict[str, str]]:
    """A GNU ``.mo`` file's messages and header.

    Messages are keyed by their text, with ``context\\x04`` in front when they have a context; a plural
    message by its singular, with a tuple of its forms. The header (the translation of the empty message)
    is split into its ``Name: value`` fields."""
    if len(data) < 28:
        raise CatalogError("too short for a .mo file")
    magic = int.from_bytes(data[:4], "little")
    if magic == _MAGIC_LITTLE:
        order = "little"
    elif magic == _MAGIC_BIG:
        order = "big"
    else:
        raise CatalogError("not a .mo file (bad magic number)")
    count = int.from_bytes(data[8:12], order)
    originals = int.from_bytes(data[12:16], order)
    translations = int.from_bytes(data[16:20], order)
    if int.from_bytes(data[4:8], order) >> 16 > 1:
        raise CatalogError("a .mo file of an unknown major revision")
    end = max(originals, translations) + 8 * count
    if end > len(data):
        raise CatalogError("its tables run past the end of the file")
    original_table = _words(data, originals, count, order)
    translation_table = _words(data, translations, count, order)
    messages: dict[str, str | tuple[str, ...]] = {}
    header: dict[str, str] = {}
    for index in range(count):
        key = _string(data, original_table[2 * index], original_table[2 * index + 1])
        value = _string(data, translation_table[2 * index], translation_table[2 * index + 1])
        if key == "":
            header = _header(value)
            continue
        singular, plural, _plural = key.partition("\0")
        messages[singular] = tuple(value.split("\0")) if plural else value
    return messages, header


def _words(data: bytes, offset: int, count: int, order: str) -> list[int]:
    """``2 * count`` 32-bit unsigned words at ``offset``: (length, offset) pairs."""
    raw = memoryview(data)[offset : offset + 8 * count]
    if order == sys.byteorder:
        return raw.cast("I").tolist()  # "I" is 4 bytes wherever CPython runs
    return [int.from_bytes(raw[index : index + 4], order) for index in range(0, len(raw), 4)]


def _string(data: bytes, length: int, offset: int) -> str:
    if offset + length > len(data):
        raise CatalogError("a string runs past the end of the file")
    try:
        return data[offset : offset + length].decode("utf-8")
    except UnicodeDecodeError:
        raise CatalogError("a string that is not UTF-8") from None


def _header(text: str) -> dict[str, str]:
    fields = {}
    for line in text.split("\n"):
        name, colon, value = line.partition(":")
        if colon:
            fields[name.strip()] = value.strip()
    return fields


# --- Plural forms ----------------------------------------------------------------------------------------
# The header's Plural-Forms is a C expression in n (``(n != 1)``, ``(n == 0 || n == 1) ? 0 : …``). gettext
# compiles it with ``re`` and ``eval``; here a small parser turns it into a function, once per catalog.

_OPERATORS = ("||", "&&", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "!", "?", ":", "(", ")")
_BINARY: dict[str, Callable[[int, int], int]] = {
    "||": lambda a, b: int(bool(a) or bool(b)),
    "&&": lambda a, b: int(bool(a) and bool(b)),
    "==": lambda a, b: int(a == b),
    "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b),
    ">": lambda a, b: int(a > b),
    "<=": lambda a, b: int(a <= b),
    ">=": lambda a, b: int(a >= b),
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a // b if b else 0,
    "%": lambda a, b: a % b if b else 0,
}
# Lowest first; each level's operators are left-associative.
_LEVELS = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"))


def _tokens(expression: str) -> list[str]:
    tokens = []
    index = 0
    while index < len(expression):
        char = expression[index]
        if char in " \t\n":
            index += 1
        elif char.isdigit():
            end = index
            while end < len(expression) and expression[end].isdigit():
                end += 1
            tokens.append(expression[index:end])
            index = end
        elif char == "n":
            tokens.append("n")
            index += 1
        else:
            operator = next((op for op in _OPERATORS if expression.startswith(op, index)), None)
            if operator is None:
                raise CatalogError(f"plural expression: unexpected {char!r}")
            tokens.append(operator)
            index += len(operator)
    return tokens


class _PluralParser:
    def __init__(self, expression: str) -> None:
        self.tokens = _tokens(expression)
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise CatalogError(f"plural expression: expected {expected or 'more'}, found {token or 'the end'}")
        self.position += 1
        return token

    def parse(self) -> Callable[[int], int]:
        function = self.conditional()
        if self.peek() is not None:
            raise CatalogError(f"plural expression: unexpected {self.peek()!r}")
        return function

    def conditional(self) -> Callable[[int], int]:
        test = self.binary(0)
        if self.peek() != "?":
            return test
        self.take("?")
        when_true = self.conditional()
        self.take(":")
        when_false = self.conditional()
        return lambda n: when_true(n) if test(n) else when_false(n)

    def binary(self, level: int) -> Callable[[int], int]:
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in _LEVELS[level]:
            apply = _BINARY[self.take()]
            right = self.binary(level + 1)
            left = _combine(apply, left, right)
        return left

    def unary(self) -> Callable[[int], int]:
        symbol = self.take()
        if symbol == "!":
            operand = self.unary()
            return lambda n: int(not operand(n))
        if symbol == "-":
            operand = self.unary()
            return lambda n: -operand(n)
        if symbol == "(":
            inner = self.conditional()
            self.take(")")
            return inner
        if symbol == "n":
            return lambda n: n
        if symbol.isdigit():
            value = int(symbol)
            return lambda n: value
        raise CatalogError(f"plural expression: unexpected {symbol!r}")


def _combine(
    apply: Callable[[int, int], int], left: Callable[[int], int], right: Callable[[int], int]
) -> Callable[[int], int]:
    return lambda n: apply(left(n), right(n))


def plural_function(header_value: str) -> tuple[int, Callable[[int], int]]:
    """``nplurals=3; plural=(n == 1 ? 0 : …);`` -> (3, the index function)."""
    fields = {}
    for part in header_value.split(";"):
        name, equals, value = part.partition("=")
        if equals:
            fields[name.strip()] = value.strip()
    try:
        count = int(fields["nplurals"])
        function = _PluralParser(fields["plural"]).parse()
    except (KeyError, ValueError) as error:
        raise CatalogError(f"Plural-Forms {header_value!r}: {error}") from None
    return count, function


def _english_plural(n: int) -> int:
    return int(n != 1)


# --- Dates -----------------------------------------------------------------------------------------------


class DateWords:
    """How a language (and region) writes a day: month names in the form that follows a day number, and
    Python format strings with ``{day}``, ``{month}`` and ``{year}``, compiled from CLDR's patterns."""

    __slots__ = ("date", "day_month", "months")

    def __init__(self, months: list[str], day_month: str, date: str) -> None:
        self.months = months
        self.day_month = day_month
        self.date = date


_ISO_DATES = DateWords([], "", "")  # no date data at all (a build without catalogs): dates stay ISO 8601


def _date_words(header: str | None, region: str | None) -> DateWords:
    if not header:
        return _ISO_DATES
    from clientcheck.cjson import loads

    try:
        data = loads(header)
        chosen = {**data, **data.get("regions", {}).get(region or "", {})}
        words = DateWords(list(chosen["months"]), str(chosen["day_month"]), str(chosen["date"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return _ISO_DATES
    return words if len(words.months) == 12 else _ISO_DATES


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
        self._plural: Callable[[int], int] = _english_plural
        self._header: dict[str, str] | None = None
        self._date_words: DateWords | None = None

    def _load(self) -> None:
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
        if self._date_words is None:
            if not self._loaded:
                self._load()
            header = self._header if self._header is not None else read_catalog(self.language)[1]
            self._date_words = _date_words(header.get(DATES_HEADER), self.region)
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


def _fill(text: str, english: str, values: dict[str, Any]) -> str:
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError):  # a broken translation: say it in English
        return english.format(**values)


def read_catalog(language: str) -> tuple[dict[str, str | tuple[str, ...]], dict[str, str]]:
    """The compiled catalog of ``language`` (one of ``available()``); empty when there is none, or it
    cannot be read (a damaged installation says English rather than fail)."""
    try:
        with open(os.path.join(LOCALE_DIR, f"{language}.mo"), "rb") as stream:
            return parse_mo(stream.read(_MO_LIMIT + 1))
    except (OSError, ValueError):
        return {}, {}


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
