"""dpkg's database: ``/var/lib/dpkg/status`` stanzas and ``info/<package>.list`` file lists.

The status file is searched, never split: a machine with 30,000 packages has a 30 MB file, and we need a
handful of its stanzas. The search uses only ``len``, ``find``, ``rfind`` and slices of the file's bytes, so
it runs the same on ``bytes`` and on a ``FileWindow`` that reads the file a window at a time.

dpkg writes each stanza followed by a blank line, the last one too, and replaces the file whole (it writes
``status-new`` and renames it). A stanza that the end of the file cuts short is therefore not dpkg's: a
copy or a disk that lost the file's tail. Its fields may be cut too (``Version: 153.6~rc1`` read as
``153.6``), so it is reported damaged, not read.
"""

from __future__ import annotations

import os

from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class Searchable(Protocol):
        """What the search needs of the file's bytes: ``bytes`` itself, or a ``FileWindow``."""

        def __len__(self) -> int: ...

        def __getitem__(self, index: slice, /) -> bytes: ...

        def find(self, sub: bytes, start: int = ..., end: int = ..., /) -> int: ...

        def rfind(self, sub: bytes, start: int = ..., end: int = ..., /) -> int: ...


_INSTALLED_STATES = {b"installed", b"half-configured", b"unpacked", b"triggers-awaited", b"triggers-pending"}
# The longest stanza read. Real ones are a few KB (the longest on a Debian desktop, 12 KB); a longer one
# is damage or a hostile file, and reading it would cost memory without bound.
MAX_STANZA = 1024 * 1024
CUT_SHORT = "is cut short (the file ends inside it)"
TOO_LONG = f"is longer than {MAX_STANZA // 1024 // 1024} MiB"
_NAME_LINE = 512  # the longest "Package:" line read
_NARROW = 16 * 1024  # a binary search this close to its end reads the rest at once


class DpkgPackage(Record):
    __slots__ = ("name", "version", "architecture", "installed", "problem")

    name: str
    version: str | None  # None when the stanza has no Version
    architecture: str | None
    installed: bool
    problem: str | None  # what is wrong with the stanza ("is cut short …"): its fields are not to be trusted

    def __init__(
        self, name: str, version: str | None, architecture: str | None, installed: bool, problem: str | None = None
    ) -> None:
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


def _starts_with(status: Searchable, prefix: bytes) -> bool:
    return status[: len(prefix)] == prefix


def _stanza_from(status: Searchable, position: int) -> int:
    """Where the first stanza starting at or after ``position`` starts, or -1."""
    if position == 0 and _starts_with(status, b"Package: "):
        return 0
    found = status.find(b"\nPackage: ", max(position - 1, 0))
    return found + 1 if found != -1 else -1


def _name_of(status: Searchable, start: int) -> bytes:
    """The package name on the ``Package:`` line at ``start`` (dpkg's names are short: a line longer than
    a name can be is read no further)."""
    line = status[start : start + _NAME_LINE]
    end = line.find(b"\n")
    return line[len(b"Package: ") : end if end != -1 else len(line)].strip()


def _find_start(status: Searchable, wanted: bytes) -> int:
    """Where a stanza of package ``wanted`` starts, or -1.

    dpkg writes the file sorted by package name, so a binary search finds a stanza in a handful of short
    look-ups instead of a pass over megabytes; a file that is not sorted (edited by hand or by another
    tool) is searched from end to end when the binary search misses.
    """
    low, high = 0, len(status)
    searched, offset = status, 0  # the part of the file searched, and where it starts
    while low < high:
        if offset == 0 and searched is status and high - low <= _NARROW:
            # Close enough: the rest of the search runs on these bytes, not through the file. (``low`` is 0
            # or one past a stanza's start, so the part cannot begin with a "Package: " that is not one.)
            searched, offset = status[low : high + _NAME_LINE], low
            low, high = 0, high - low
        middle = (low + high) // 2
        start = _stanza_from(searched, middle)
        if start == -1 or start >= high:
            high = middle  # no stanza starts in [middle, high): the one we want, if any, starts earlier
            continue
        found = _name_of(searched, start)
        if found == wanted:
            return offset + start
        if found < wanted:
            low = start + 1
        else:
            high = middle
    marker = b"Package: " + wanted + b"\n"
    if _starts_with(status, marker):
        return 0
    position = status.find(b"\n" + marker)
    return position + 1 if position != -1 else -1


def _stanza_at(status: Searchable, start: int) -> tuple[bytes, str | None]:
    """The stanza starting at ``start``, without its closing blank line, and what is wrong with it."""
    end = status.find(b"\n\n", start, start + MAX_STANZA + 2)
    if end != -1:
        return status[start:end], None
    if len(status) - start > MAX_STANZA:
        return status[start : start + MAX_STANZA], TOO_LONG
    return status[start:], CUT_SHORT  # the end of the file, without the blank line dpkg writes after a stanza


def _stanzas_of(status: Searchable, name: str) -> list[tuple[bytes, str | None]]:
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
    if starts[0] != 0 and previous == -1 and _starts_with(status, b"Package: " + wanted + b"\n"):
        starts.insert(0, 0)
    following = _stanza_from(status, start + 1)
    while following != -1 and _name_of(status, following) == wanted:
        starts.append(following)
        following = _stanza_from(status, following + 1)
    return [_stanza_at(status, position) for position in starts]


def find_stanzas(status: Searchable, name: str) -> list[bytes]:
    """Every stanza of package ``name``, as they are in the file (a damaged one too)."""
    return [stanza for stanza, _ in _stanzas_of(status, name)]


def find_stanza(status: Searchable, name: str) -> bytes | None:
    """The first stanza of package ``name`` in a dpkg status file, or None."""
    stanzas = _stanzas_of(status, name)
    return stanzas[0][0] if stanzas else None


def find_package(status: Searchable, name: str) -> DpkgPackage | None:
    """Package ``name`` as the status file describes it, or None when the file has no stanza for it.

    Of several stanzas (one per architecture) the installed one is chosen; a damaged one is chosen over
    any but an installed, intact one, because what it lost may be that it is installed.
    """
    packages = [_package(stanza, problem) for stanza, problem in _stanzas_of(status, name)]
    intact = [package for package in packages if package.installed and package.problem is None]
    damaged = [package for package in packages if package.problem is not None]
    return next(iter(intact or damaged or packages), None)


def ends_cut_short(status: Searchable) -> bool:
    """Whether the file ends inside a stanza, not as dpkg ends it (empty, or with a blank line)."""
    return len(status) > 0 and status[-2:] != b"\n\n"


def last_stanza_name(status: Searchable) -> str | None:
    """The package name of the file's last stanza; None when its ``Package:`` line is lost or cut (a cut
    ``firefox-esr`` may read ``firef``: only a line ended by its newline is known whole)."""
    length = len(status)
    found = status.rfind(b"\n\n", max(length - MAX_STANZA - 2, 0))  # where the stanza before it ends
    if found == -1 and length > MAX_STANZA:
        return None
    start = found + 2 if found != -1 else 0
    line = status[start : start + _NAME_LINE]
    end = line.find(b"\n")
    if not line.startswith(b"Package: ") or end == -1:
        return None
    return line[len(b"Package: ") : end].decode("utf-8", errors="replace")


def _package(stanza: bytes, problem: str | None = None) -> DpkgPackage:
    status_words = (_field(stanza, b"Status") or b"").split()
    # "install ok installed", "hold ok installed"; "deinstall ok config-files" is a removed package.
    installed = len(status_words) == 3 and status_words[2] in _INSTALLED_STATES
    return DpkgPackage(
        name=_text(_field(stanza, b"Package")) or "",
        version=_text(_field(stanza, b"Version")),
        architecture=_text(_field(stanza, b"Architecture")),
        installed=installed,
        problem=problem,
    )


def list_contains(list_text: bytes, path: str) -> bool:
    """Whether a ``.list`` file (one absolute path per line, each ended by a newline) names ``path``.

    A last line without its newline is not read: dpkg ends every line, so it is a cut line, and a cut
    ``/usr/bin/evince-previewer`` must not be taken for ``/usr/bin/evince``.
    """
    if "\n" in path or not path:
        return False  # a list holds one path a line: no line is a path with a line end in it
    line = os.fsencode(path)  # file lists hold raw bytes; a path that is not UTF-8 comes back as it was
    # Compared in place: concatenating newlines around a list file would copy it for every look-up.
    return list_text.startswith(line + b"\n") or b"\n" + line + b"\n" in list_text


def list_cut_short(list_text: bytes) -> bool:
    """Whether a ``.list`` file ends inside a line (dpkg ends every line with a newline)."""
    return bool(list_text) and not list_text.endswith(b"\n")
