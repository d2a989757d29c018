"""os-release (freedesktop) files: shell-like ``KEY=value`` lines with optional quoting."""

from __future__ import annotations

_KEY_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_KEY_REST = _KEY_FIRST | frozenset("0123456789")
_ESCAPED = frozenset('\\"$`')  # what a backslash escapes inside double quotes (shell rules)


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    characters = iter(text)
    for char in characters:
        if char == "\\":
            following = next(characters, "")
            out.append(following if following in _ESCAPED else char + following)
        else:
            out.append(char)
    return "".join(out)


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
            inner = _unescape(inner)
        return inner
    if any(ch in value for ch in " \t\"'"):
        raise OsReleaseError(f"line {line_number}: value with spaces or quotes must be quoted")
    return value


def parse_os_release(text: str) -> dict[str, str]:
    """Parse os-release text. Raises ``OsReleaseError`` when no line is readable; a single bad line in an
    otherwise good file is skipped (as systemd does) and does not fail the file."""
    values: dict[str, str] = {}
    bad: list[str] = []
    # Lines end at "\n" or "\r", as systemd reads them; str.splitlines() would also end one at U+2028 or
    # U+0085 inside a quoted value (a PRETTY_NAME could then set ID).
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key or key[0] not in _KEY_FIRST or not all(c in _KEY_REST for c in key):
            bad.append(f"line {number}: not KEY=value")
            continue
        try:
            values[key] = _unquote(value, number)
        except OsReleaseError as error:
            bad.append(str(error))
    if not values.get("ID") and not values.get("NAME"):
        raise OsReleaseError(bad[0] if bad else "no ID or NAME")
    return values
