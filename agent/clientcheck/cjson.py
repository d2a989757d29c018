"""JSON read and written through CPython's C accelerator, ``_json``, without importing the ``json`` package.

Why: ``import json`` loads the regular-expression engine for its pure-Python fallbacks (``re``, and with it
``enum``, ``functools``, ``collections``…) and compiles six patterns, none of which the default path's JSON
needs: several milliseconds of every run, more than all of clientcheck's own modules together. The C
scanner and encoder here are the ones ``json`` itself uses, called as ``json.loads`` and ``json.dumps(…,
separators=(",", ":"))`` call them, so the values and the errors are the same: ``json.JSONDecodeError``
with the same message and position, ``RecursionError`` for nesting too deep. Only a document that is not
JSON imports ``json`` (for its error type). A test holds both functions to ``json``'s own answers on
generated documents. Without ``_json`` (another Python), ``json`` does the work.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

_WHITESPACE = " \t\n\r"  # what JSON allows between values, as json's own WHITESPACE pattern
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Decoder:
    """What the C scanner reads of a decoder (``json.JSONDecoder``'s attributes of the same names)."""

    __slots__ = ("object_hook", "object_pairs_hook", "parse_constant", "parse_float", "parse_int", "strict")

    def __init__(
        self,
        object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None,
        parse_constant: Callable[[str], Any] | None,
    ) -> None:
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = object_pairs_hook
        self.parse_float = float
        self.parse_int = int
        self.parse_constant = parse_constant or _CONSTANTS.__getitem__


def loads(
    text: str,
    *,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """``json.loads(text, object_pairs_hook=…, parse_constant=…)`` for a ``str``."""
    try:
        from _json import make_scanner
    except ImportError:  # pragma: no cover - CPython has it
        import json

        return json.loads(text, object_pairs_hook=object_pairs_hook, parse_constant=parse_constant)
    if text.startswith("\ufeff"):
        _fail("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    # typeshed asks for a scanner; the C code reads the attributes above of whatever it is given.
    scan = make_scanner(_Decoder(object_pairs_hook, parse_constant))  # type: ignore[arg-type]
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = scan(text, start)
    except StopIteration as stop:  # nothing that starts a value at ``start``
        _fail("Expecting value", text, stop.value)
    except SystemError:
        import sys

        if "json.decoder" in sys.modules:
            raise
        # Before Python 3.12 the C scanner raises JSONDecodeError only once json.decoder is imported (it looks
        # the class up, it does not import it), and a SystemError otherwise: import it, and read again.
        import json.decoder

        return loads(text, object_pairs_hook=object_pairs_hook, parse_constant=parse_constant)
    rest = text[end:]
    end += len(rest) - len(rest.lstrip(_WHITESPACE))
    if end != len(text):
        _fail("Extra data", text, end)
    return value


def dumps_compact(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``: one line, text as it is."""
    try:
        from _json import encode_basestring, make_encoder
    except ImportError:  # pragma: no cover - CPython has it
        import json

        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, str):
        text: str = encode_basestring(value)
        return text
    # markers (circular references are an error), default, string encoder, indent, key and item
    # separators, sort_keys, skipkeys, allow_nan: as json.JSONEncoder passes them.
    encode = make_encoder({}, _unserializable, encode_basestring, None, ":", ",", False, False, True)
    return "".join(encode(value, 0))


def _unserializable(value: object) -> NoReturn:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _fail(message: str, text: str, position: int) -> NoReturn:
    from json import JSONDecodeError  # only for a document that is not JSON

    raise JSONDecodeError(message, text, position) from None
