"""os-release (freedesktop) files: shell-like ``KEY=value`` lines with optional quoting."""

from __future__ import annotations

import re

_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)")
_ESCAPES = {'\\"': '"', "\\\\": "\\", "\\$": "$", "\\`": "`"}


class OsReleaseError(ValueError):
    pass


def _unquote(value: str, line_number: int) -> str:
    value = value.strip()
    if not value:
        return ""
    quote = value[0]
    if quote in "\"'":
        if len(value) < 2 or value[-1] != quote:
            raise OsReleaseError(f"line {line_number}: unbalanced quotes")
        inner = value[1:-1]
        if quote == '"':
            inner = re.sub(r'\\[\\"$`]', lambda m: _ESCAPES[m.group(0)], inner)
        return inner
    if any(ch in value for ch in " \t\"'"):
        raise OsReleaseError(f"line {line_number}: value with spaces or quotes must be quoted")
    return value


def parse_os_release(text: str) -> dict[str, str]:
    """Parse os-release text. Raises ``OsReleaseError`` when no line is readable; a single bad line in an
    otherwise good file is skipped (as systemd does) and does not fail the file."""
    values: dict[str, str] = {}
    bad: list[str] = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            bad.append(f"line {number}: not KEY=value")
            continue
        try:
            values[match.group(1)] = _unquote(match.group(2), number)
        except OsReleaseError as error:
            bad.append(str(error))
    if not values.get("ID") and not values.get("NAME"):
        raise OsReleaseError(bad[0] if bad else "no ID or NAME")
    return values
