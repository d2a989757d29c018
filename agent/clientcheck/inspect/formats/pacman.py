"""pacman's local database: ``/var/lib/pacman/local/<name>-<version>-<rel>/{desc,files}``."""

from __future__ import annotations


def parse_sections(text: str) -> dict[str, list[str]]:
    """``%NAME%`` headed sections, each a list of lines, ended by a blank line."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("%") and line.endswith("%") and len(line) > 2:
            current = sections.setdefault(line[1:-1], [])
        elif not line:
            current = None
        elif current is not None:
            current.append(line)
    return sections


def entry_name_and_version(directory: str) -> tuple[str, str] | None:
    """``firefox-132.0.2-1`` -> (``firefox``, ``132.0.2-1``): the last two dash-separated fields are the
    version and release (pacman forbids dashes in either)."""
    parts = directory.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], f"{parts[1]}-{parts[2]}"


def files_contain(files_text: str, path: str) -> bool:
    """Whether a ``files`` entry lists ``path`` (stored without the leading slash)."""
    return f"\n{path.lstrip('/')}\n" in f"\n{files_text}\n"
