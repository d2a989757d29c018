"""dpkg's database: ``/var/lib/dpkg/status`` stanzas and ``info/<package>.list`` file lists."""

from __future__ import annotations

import os

from clientcheck.record import Record

_INSTALLED_STATES = {b"installed", b"half-configured", b"unpacked", b"triggers-awaited", b"triggers-pending"}


class DpkgPackage(Record):
    __slots__ = ("name", "version", "architecture", "installed")

    name: str
    version: str | None  # None when the stanza has no Version (a truncated or damaged file)
    architecture: str | None
    installed: bool

    def __init__(self, name: str, version: str | None, architecture: str | None, installed: bool) -> None:
        self._set(locals())


def _field(stanza: bytes, name: bytes) -> bytes | None:
    """One single-line field of a stanza (``Version``, ``Status``, …), found without splitting it into lines:
    stanzas carry long Depends and Description fields we never read."""
    marker = b"\n" + name + b":"
    start = stanza.find(marker)
    if start == -1:
        if not stanza.startswith(name + b":"):
            return None
        start = -1  # the stanza's first line
    value_start = start + len(marker)
    end = stanza.find(b"\n", value_start)
    return stanza[value_start : end if end != -1 else len(stanza)].strip()


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8", errors="replace") if value else None


def _stanza_from(status: bytes, position: int) -> int:
    """Where the first stanza starting at or after ``position`` starts, or -1."""
    if position == 0 and status.startswith(b"Package: "):
        return 0
    found = status.find(b"\nPackage: ", max(position - 1, 0))
    return found + 1 if found != -1 else -1


def _name_of(status: bytes, start: int) -> bytes:
    end = status.find(b"\n", start)
    return status[start + len(b"Package: ") : end if end != -1 else len(status)].strip()


def _find_start(status: bytes, wanted: bytes) -> int:
    """Where a stanza of package ``wanted`` starts, or -1.

    dpkg writes the file sorted by package name, so a binary search finds a stanza in a handful of short
    look-ups instead of a pass over megabytes; a file that is not sorted (edited by hand or by another
    tool) is searched from end to end when the binary search misses.
    """
    low, high = 0, len(status)
    while low < high:
        middle = (low + high) // 2
        start = _stanza_from(status, middle)
        if start == -1 or start >= high:
            high = middle  # no stanza starts in [middle, high): the one we want, if any, starts earlier
            continue
        found = _name_of(status, start)
        if found == wanted:
            return start
        if found < wanted:
            low = start + 1
        else:
            high = middle
    marker = b"Package: " + wanted + b"\n"
    if status.startswith(marker):
        return 0
    position = status.find(b"\n" + marker)
    return position + 1 if position != -1 else -1


def find_stanzas(status: bytes, name: str) -> list[bytes]:
    """Every stanza of package ``name``: one, or one per architecture for a multi-arch package (which may
    be installed for one architecture and only remembered for another)."""
    wanted = name.encode()
    start = _find_start(status, wanted)
    if start == -1:
        return []
    starts = [start]
    # Neighbours of the same name: dpkg keeps them together, sorted by architecture.
    previous = status.rfind(b"\nPackage: ", 0, max(start - 1, 0))
    while previous != -1 and _name_of(status, previous + 1) == wanted:
        starts.insert(0, previous + 1)
        previous = status.rfind(b"\nPackage: ", 0, previous)
    if starts[0] != 0 and previous == -1 and status.startswith(b"Package: " + wanted + b"\n"):
        starts.insert(0, 0)
    following = _stanza_from(status, start + 1)
    while following != -1 and _name_of(status, following) == wanted:
        starts.append(following)
        following = _stanza_from(status, following + 1)
    return [_stanza_at(status, position) for position in starts]


def find_stanza(status: bytes, name: str) -> bytes | None:
    """The first stanza of package ``name`` in a dpkg status file, or None."""
    stanzas = find_stanzas(status, name)
    return stanzas[0] if stanzas else None


def _stanza_at(status: bytes, start: int) -> bytes:
    end = status.find(b"\n\n", start)
    return status[start : end if end != -1 else len(status)]


def find_package(status: bytes, name: str) -> DpkgPackage | None:
    """Package ``name`` as the status file describes it (its installed stanza where it has several), or
    None when the file has no stanza for it."""
    packages = [_package(stanza) for stanza in find_stanzas(status, name)]
    return next((package for package in packages if package.installed), packages[0] if packages else None)


def _package(stanza: bytes) -> DpkgPackage:
    status_words = (_field(stanza, b"Status") or b"").split()
    # "install ok installed", "hold ok installed"; "deinstall ok config-files" is a removed package.
    installed = len(status_words) == 3 and status_words[2] in _INSTALLED_STATES
    return DpkgPackage(
        name=_text(_field(stanza, b"Package")) or "",
        version=_text(_field(stanza, b"Version")),
        architecture=_text(_field(stanza, b"Architecture")),
        installed=installed,
    )


def list_contains(list_text: bytes, path: str) -> bool:
    """Whether a ``.list`` file (one absolute path per line) names ``path``."""
    if "\n" in path or not path:
        return False  # a list holds one path a line: no line is a path with a line end in it
    line = os.fsencode(path)  # file lists hold raw bytes; a path that is not UTF-8 comes back as it was
    # Compared in place: concatenating newlines around a list file would copy it for every look-up.
    return (
        list_text.startswith(line + b"\n")
        or b"\n" + line + b"\n" in list_text
        or list_text == line
        or list_text.endswith(b"\n" + line)
    )
