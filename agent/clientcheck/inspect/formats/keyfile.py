"""The freedesktop "key file" format (desktop entries, mimeapps.list, flatpak metadata) and the INI files
applications write (Firefox's application.ini): ``[Group]`` headers and ``Key=Value`` lines."""

from __future__ import annotations

KeyFile = dict[str, dict[str, str]]


def parse_keyfile(text: str) -> KeyFile:
    """Groups of keys. Lenient like the readers desktops use: a bad line is skipped, not fatal; the first
    occurrence of a group or key wins."""
    groups: KeyFile = {}
    current: dict[str, str] | None = None
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            current = groups.setdefault(name, {}) if name not in groups else None
            continue
        if current is None or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if key and key not in current:
            current[key] = value.strip()
    return groups


def split_list(value: str) -> list[str]:
    """A ``;``-separated list value (``MimeType=application/pdf;image/tiff;``)."""
    return [item.strip() for item in value.split(";") if item.strip()]
