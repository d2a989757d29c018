"""The freedesktop "key file" format (desktop entries, mimeapps.list, flatpak metadata) and the INI files
applications write (Firefox's application.ini): ``[Group]`` headers and ``Key=Value`` lines."""

from __future__ import annotations

import re

KeyFile = dict[str, dict[str, str]]

_GROUP = re.compile(r"^[ \t]*\[([^\]\n]+)\][ \t]*\r?$", re.MULTILINE)
# Localised keys (Name[de]=…) are skipped by this pattern: desktop entries carry hundreds of them, and
# matching in C instead of looping over lines in Python is what keeps a login run fast.
_KEY = re.compile(r"^[ \t]*([A-Za-z0-9/+._-]+)[ \t]*=[ \t]*(.*?)[ \t]*\r?$", re.MULTILINE)


def parse_keyfile(text: str) -> KeyFile:
    """Groups of keys. Lenient like the readers desktops use: a bad line is skipped, not fatal; the first
    occurrence of a group or key wins."""
    groups: KeyFile = {}
    headers = list(_GROUP.finditer(text))
    for index, header in enumerate(headers):
        name = header.group(1).strip()
        if name in groups:
            continue
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        keys: dict[str, str] = {}
        for key, value in _KEY.findall(text, header.end(), end):
            keys.setdefault(key, value)
        groups[name] = keys
    return groups


def split_list(value: str) -> list[str]:
    """A ``;``-separated list value (``MimeType=application/pdf;image/tiff;``)."""
    return [item.strip() for item in value.split(";") if item.strip()]
