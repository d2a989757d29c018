"""Reading TOML configuration files: a fast reader for the plain files people write, ``tomllib`` for the rest.

Why two: ``import tomllib`` costs about 30 ms here (it loads ``re``, ``typing``, ``string`` and its own
regular expressions), most of a whole clientcheck run, and the configuration is read at every login.
Configuration files are nearly always ``[table]`` headers and ``key = value`` lines with strings,
integers, booleans and one-line arrays. ``fast_parse`` reads exactly that subset, and gives up (returns
None) on anything else, even on what might be valid TOML; ``parse`` then hands the text to tomllib, which
also writes the error message for a file that is not TOML. A test holds ``fast_parse`` to tomllib's
answers on generated documents, so the two never disagree on a file both read.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class TomlError(ValueError):
    """Not TOML; the message says where (line and column), as tomllib words it."""


_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class _GiveUp(Exception):  # noqa: N818 - not an error: the text is outside the fast subset
    pass


def parse(text: str) -> dict[str, Any]:
    """The document as nested dicts. Raises ``TomlError`` for text that is not TOML."""
    fast = fast_parse(text)
    if fast is not None:
        return fast
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: the same parser, published as tomli
        import tomli as tomllib
    try:
        document: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TomlError(str(error)) from None
    except RecursionError:  # inline tables nested thousands deep: tomllib recurses
        raise TomlError("nested too deeply") from None
    except ValueError:  # an integer longer than int() converts (4300 digits)
        raise TomlError("a number with too many digits") from None
    return document


def fast_parse(text: str) -> dict[str, Any] | None:
    """The document, if it is within the plain subset; None otherwise (the caller asks tomllib)."""
    try:
        return _Reader(text).document()
    except _GiveUp:
        return None


def _is_bare(key: str) -> bool:
    return bool(key) and all(char in _BARE for char in key)


def _reject_controls(text: str) -> None:
    # TOML forbids control characters (other than tab) in comments and strings; tomllib words the error.
    for char in text:
        if (char < " " and char != "\t") or char == "\x7f":
            raise _GiveUp


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.root: dict[str, Any] = {}
        self.defined_tables: set[tuple[str, ...]] = set()

    def document(self) -> dict[str, Any]:
        table = self.root
        lines = self.text.split("\n")
        for number, raw in enumerate(lines):
            # A carriage return belongs only in a CRLF line end; the last piece has no LF after it.
            line = raw[:-1] if raw.endswith("\r") and number < len(lines) - 1 else raw
            stripped = line.strip(" \t")
            if not stripped or stripped.startswith("#"):
                _reject_controls(stripped)
                continue
            if stripped.startswith("["):
                table = self._header(stripped)
            else:
                self._key_value(stripped, table)
        return self.root

    def _header(self, line: str) -> dict[str, Any]:
        if line.startswith("[["):
            raise _GiveUp  # arrays of tables
        end = line.find("]")
        if end < 0:
            raise _GiveUp
        self._trailing(line[end + 1 :])
        path = tuple(part.strip(" \t") for part in line[1:end].split("."))
        if not all(_is_bare(part) for part in path) or path in self.defined_tables:
            raise _GiveUp
        self.defined_tables.add(path)
        table = self.root
        for part in path:
            child = table.setdefault(part, {})
            if not isinstance(child, dict):
                raise _GiveUp
            table = child
        if any(not isinstance(value, dict) for value in table.values()):
            raise _GiveUp  # keys already set in a table defined only now: leave the ruling to tomllib
        return table

    def _key_value(self, line: str, table: dict[str, Any]) -> None:
        key, equals, rest = line.partition("=")
        key = key.strip(" \t")
        if not equals or not _is_bare(key) or key in table:
            raise _GiveUp
        value, rest = self._value(rest.lstrip(" \t"))
        self._trailing(rest)
        table[key] = value

    def _trailing(self, rest: str) -> None:
        rest = rest.lstrip(" \t")
        if rest and not rest.startswith("#"):
            raise _GiveUp
        _reject_controls(rest)

    def _value(self, text: str) -> tuple[Any, str]:
        """The value at the start of ``text``, and what follows it."""
        if not text:
            raise _GiveUp
        first = text[0]
        if first == '"':
            return self._basic_string(text)
        if first == "'":
            if text.startswith("'''"):
                raise _GiveUp
            end = text.find("'", 1)
            if end < 0:
                raise _GiveUp
            _reject_controls(text[1:end])
            return text[1:end], text[end + 1 :]
        if first == "[":
            return self._array(text)
        end = 0
        while end < len(text) and text[end] not in " \t,]#":
            end += 1
        word, rest = text[:end], text[end:]
        if word == "true":
            return True, rest
        if word == "false":
            return False, rest
        return _integer(word), rest

    def _basic_string(self, text: str) -> tuple[str, str]:
        if text.startswith('"""'):
            raise _GiveUp
        parts: list[str] = []
        index = 1
        while True:
            end = _next_of(text, '"\\', index)
            if end < 0:
                raise _GiveUp
            _reject_controls(text[index:end])  # checked before decoding: an escaped "\n" is allowed
            parts.append(text[index:end])
            if text[end] == '"':
                return "".join(parts), text[end + 1 :]
            escape = text[end + 1 : end + 2]
            if escape in _ESCAPES:
                parts.append(_ESCAPES[escape])
                index = end + 2
            elif escape in ("u", "U"):
                width = 4 if escape == "u" else 8
                digits = text[end + 2 : end + 2 + width]
                if len(digits) != width or not all(char in "0123456789abcdefABCDEF" for char in digits):
                    raise _GiveUp
                point = int(digits, 16)
                if point > 0x10FFFF or 0xD800 <= point <= 0xDFFF:
                    raise _GiveUp
                parts.append(chr(point))
                index = end + 2 + width
            else:
                raise _GiveUp

    def _array(self, text: str) -> tuple[list[Any], str]:
        items: list[Any] = []
        rest = text[1:].lstrip(" \t")
        while not rest.startswith("]"):
            if rest.startswith("["):
                raise _GiveUp  # nested arrays: given up before recursing, however deep they go
            item, rest = self._value(rest)
            if items and type(item) is not type(items[0]):
                raise _GiveUp  # mixed arrays: rare in configuration, tomllib reads them
            items.append(item)
            rest = rest.lstrip(" \t")
            if rest.startswith(","):
                rest = rest[1:].lstrip(" \t")
            elif not rest.startswith("]"):
                raise _GiveUp
        return items, rest[1:]


def _next_of(text: str, chars: str, start: int) -> int:
    found = [index for index in (text.find(char, start) for char in chars) if index >= 0]
    return min(found) if found else -1


def _integer(word: str) -> int:
    digits = word[1:] if word[:1] in "+-" else word
    if (
        not digits
        or not digits.isascii()
        or not digits.replace("_", "").isdigit()
        or digits.startswith("_")
        or digits.endswith("_")
        or "__" in digits
        or (len(digits) > 1 and digits[0] == "0")  # leading zeros, and 0x/0o/0b forms, are tomllib's to judge
        or len(digits) > 18  # past 64 bits, or past what int() converts: tomllib's to judge too
    ):
        raise _GiveUp
    return int(word.replace("_", ""))
