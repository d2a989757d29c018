"""pacman's local database: ``/var/lib/pacman/local/<name>-<version>-<rel>/{desc,files}``.

pacman ends every section of both files with a blank line (``%VERSION%\\n132.0.2-1\\n\\n``), and writes
them in place, not through a rename: a run cut off while writing leaves a file that ends inside a section,
whose last value may be cut too. Such a file is reported, not read.
"""

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


def cut_short(text: str) -> bool:
    """Whether a ``desc`` or ``files`` file ends inside a section (pacman ends each with a blank line)."""
    return bool(text) and not text.endswith("\n\n")


def files_contain(files_text: str, path: str) -> bool:
    """Whether a ``files`` entry lists ``path`` (stored without the leading slash) on a line of its own
    ended by a newline: a cut last line (``usr/bin/firef``) names nothing."""
    return f"\n{path.lstrip('/')}\n" in f"\n{files_text}"
