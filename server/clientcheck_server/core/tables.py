"""Plain-text tables for the command line's lists, and JSON for scripts (``--json``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, Protocol


class Writable(Protocol):
    def write(self, msg: str, /) -> object: ...


def when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def printable(value: object) -> str:
    """Host data is not trusted: terminal escapes and other control characters are shown, not obeyed."""
    text = "-" if value is None or value == "" else str(value)
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def write(stream: Writable, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[printable(cell) for cell in row] for row in rows]
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(header)]
    stream.write("  ".join(name.ljust(width) for name, width in zip(header, widths, strict=True)).rstrip() + "\n")
    for row in cells:
        stream.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")


def write_json(stream: Writable, items: list[dict[str, Any]]) -> None:
    stream.write(json.dumps(items, indent=2, ensure_ascii=False, default=str) + "\n")
