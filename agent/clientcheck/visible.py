"""Text from outside (a rule file's messages and links, names and paths read from the inspected machine)
made safe to show, in every text format.

Such text may carry what a terminal, a log viewer or a spreadsheet acts on instead of showing: an ESC
sequence (clear the screen, set the window title, an OSC 8 link), BEL, a carriage return that rewrites
the line, and the bidirectional embedding, override and isolate controls that make text read in another
order than it is stored (U+202E turns "exe.pdf" around). Each of these is written out visibly instead:
C0 controls (except newline and tab), DEL and C1 controls as ``\\x1b``, the bidi controls as ``U+202E``.

The bidi *marks* (U+200E, U+200F, U+061C) stay: they only nudge neutral characters, and right-to-left
messages need them. Pure and idempotent: what it writes has nothing left to replace.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

BIDI_CONTROLS = tuple(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


def _escapes(kept: Iterable[str]) -> dict[int, str]:
    table = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
    table.update({ord(char): f"U+{ord(char):04X}" for char in BIDI_CONTROLS})
    for char in kept:
        del table[ord(char)]
    return table


_TEXT = _escapes("\n\t")


def visible(text: str) -> str:
    """``text`` with every control character but newline and tab, and every bidi control, written out."""
    return text.translate(_TEXT)


_QUOTED = _escapes(())


def quoted(text: str) -> str:
    """``text`` quoted inside a one-line message (a rule file's key in a problem's location): every control,
    newline and tab included, and every bidi control written out."""
    return text.translate(_QUOTED)


def one_line(text: str) -> str:
    """``text`` for a format that is one line per item: controls written out, then every run of white
    space (newlines and tabs included) made one space."""
    return " ".join(visible(text).split())


def unsafe_characters(text: str) -> list[str]:
    """The characters ``visible`` would write out, each once, as ``U+001B``, in the order they appear."""
    if text.translate(_TEXT) == text:
        return []  # decided in C: a newline, a tab or a bidi mark is text
    found = dict.fromkeys(char for char in text if ord(char) in _TEXT)
    return [f"U+{ord(char):04X}" for char in found]
