"""The compiled catalogs (GNU ``.mo``) read without the ``gettext`` module, which imports ``re``, ``locale``
and more at every start: a ``.mo`` file is two tables of offsets, read here as one ``memoryview`` cast (no
``struct`` either). Also the catalogs' plural formulas, and the CLDR date words the build puts in their
header. Imported only when a language other than English is spoken, or a date is written out.
"""

from __future__ import annotations

import os
import sys

from clientcheck import i18n
from clientcheck.i18n import ISO_DATES, DateWords

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Literal

_MO_LIMIT = 4 * 1024 * 1024  # our catalogs are a few tens of kilobytes
_MAGIC_LITTLE, _MAGIC_BIG = 0x950412DE, 0xDE120495


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
    order: Literal["little", "big"]
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


def _words(data: bytes, offset: int, count: int, order: Literal["little", "big"]) -> list[int]:
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


# --- Dates -----------------------------------------------------------------------------------------------


def date_words(header: str | None, region: str | None) -> DateWords:
    """The date words of a catalog's header, for ``region``; none (ISO 8601 dates) when it has none."""
    if not header:
        return ISO_DATES
    from clientcheck.cjson import loads

    try:
        data = loads(header)
        chosen = {**data, **data.get("regions", {}).get(region or "", {})}
        words = DateWords(list(chosen["months"]), str(chosen["day_month"]), str(chosen["date"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return ISO_DATES
    return words if len(words.months) == 12 else ISO_DATES


def read_catalog(language: str) -> tuple[dict[str, str | tuple[str, ...]], dict[str, str]]:
    """The compiled catalog of ``language`` (one of ``available()``); empty when there is none, or it
    cannot be read (a damaged installation says English rather than fail)."""
    try:
        with open(os.path.join(i18n.LOCALE_DIR, f"{language}.mo"), "rb") as stream:
            return parse_mo(stream.read(_MO_LIMIT + 1))
    except (OSError, ValueError):
        return {}, {}
