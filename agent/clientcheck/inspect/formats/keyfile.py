"""The freedesktop "key file" format (desktop entries, mimeapps.list, flatpak metadata) and the INI files
applications write (Firefox's application.ini): ``[Group]`` headers and ``Key=Value`` lines.

Desktop entries carry hundreds of translated keys (``Name[de]=…``) and we need a handful of keys from one
group, so besides a full parser there are look-ups that find just those keys with ``str.find``: at every
login, for every desktop entry, that is the difference between milliseconds and microseconds.
"""

from __future__ import annotations

KeyFile = dict[str, dict[str, str]]


def parse_keyfile(text: str) -> KeyFile:
    """Every group and key. Lenient like the readers desktops use: a bad line is skipped, not fatal; the
    first occurrence of a group or key wins."""
    groups: KeyFile = {}
    current: dict[str, str] | None = None
    # Lines end at "\n" alone, as GLib and Firefox's INI reader read them (strip() takes a "\r" before it):
    # str.splitlines() would also end one at U+0085, U+2028 or a form feed inside a value.
    for raw_line in text.split("\n"):
        line = raw_line.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[" and line[-1] == "]":
            name = line[1:-1].strip()
            current = None if name in groups else groups.setdefault(name, {})
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if current is not None and sep and key and key not in current:
            current[key] = value.strip()
    return groups


def group_section(text: str, group: str) -> str | None:
    """The text of ``[group]`` (from its header line to the next group), or None when it has none. A group
    that appears twice (the spec forbids it, GLib accepts it) is read as one: its parts in file order."""
    header = f"[{group}]"
    sections: list[str] = []
    start = -1
    while True:
        start = text.find(header, start + 1)
        if start == -1:
            break
        if start != 0 and text[start - 1] != "\n":
            continue  # not a header: checked first, or each occurrence would scan to its line's end
        line_end = text.find("\n", start)
        line_end = len(text) if line_end == -1 else line_end
        if not text[start + len(header) : line_end].strip():
            end = text.find("\n[", line_end)
            sections.append(text[line_end : end if end != -1 else len(text)])
    return "".join(sections) if sections else None


def key_value(section: str, key: str) -> str | None:
    """The value of the first ``key=value`` line of a group's text (spaces around ``=`` allowed)."""
    needle = "\n" + key
    position = section.find(needle) if section.startswith("\n") else ("\n" + section).find(needle)
    text = section if section.startswith("\n") else "\n" + section
    while position != -1:
        after = position + len(needle)
        line_end = text.find("\n", after)
        rest = text[after : line_end if line_end != -1 else len(text)].lstrip(" \t")
        if rest.startswith("="):
            return rest[1:].strip()
        position = text.find(needle, after)
    return None


def key_values(section: str, keys: tuple[str, ...]) -> dict[str, str]:
    """The values of those ``keys`` that the group's text has."""
    values = {}
    for key in keys:
        value = key_value(section, key)
        if value is not None:
            values[key] = value
    return values


def split_list(value: str) -> list[str]:
    """A ``;``-separated list value (``MimeType=application/pdf;image/tiff;``)."""
    return [item.strip() for item in value.split(";") if item.strip()]
