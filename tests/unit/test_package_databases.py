"""Package databases of any size.

- ``FileWindow`` answers ``find``, ``rfind`` and slices exactly as ``bytes`` does, reading small windows;
- the dpkg status search gives the same answers through it as over the file's bytes, on the fixtures and
  on a generated 30,000-package file, sorted or not, and reads a sliver of a sorted file.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientcheck.inspect import fsroot, inspect_machine
from clientcheck.inspect.formats.dpkg import MAX_STANZA, TOO_LONG, find_package
from clientcheck.inspect.fsroot import Root
from clientcheck.inspect.packages import MAX_READ, FileWindow
from dpkg_machines import grown_status, real_stanzas, stanza_name

LINUX = Path(__file__).resolve().parents[1] / "fixtures" / "linux"
DEBIAN = LINUX / "debian-12-desktop" / "root"
STATUS = "var/lib/dpkg/status"
DEBIAN_STATUS = (DEBIAN / STATUS).read_bytes()
BROWSER_PACKAGES = ("chromium", "evince", "firefox-esr", "google-chrome-stable", "okular")


class BytesFile:
    """An ``OpenFile`` over bytes in memory, which counts what is read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)
        self.reads: list[int] = []

    def read_at(self, offset: int, size: int) -> bytes:
        assert offset >= 0 and size >= 0
        self.reads.append(size)
        return self.data[offset : offset + size]


# FileWindow ---------------------------------------------------------------------------------------------------

_INDEX = st.none() | st.integers(-70, 70)


@settings(max_examples=400, deadline=None)
@given(
    st.binary(max_size=60)
    | st.lists(st.sampled_from([b"\n", b"Package: ", b"ab", b"\n\n"]), max_size=20).map(b"".join),
    st.sampled_from([b"", b"\n", b"\n\n", b"Package: ", b"ab", b"b\nP"]) | st.binary(max_size=4),
    _INDEX,
    _INDEX,
    st.integers(1, 9),
    st.integers(1, 20),
)
def test_file_window_finds_what_bytes_finds(
    data: bytes, sub: bytes, start: int | None, end: int | None, first_read: int, max_read: int
):
    window = FileWindow(BytesFile(data), first_read=first_read, max_read=max(first_read, max_read))
    if start is None:
        assert window.find(sub) == data.find(sub)
        assert window.rfind(sub) == data.rfind(sub)
    elif end is None:
        assert window.find(sub, start) == data.find(sub, start)
        assert window.rfind(sub, start) == data.rfind(sub, start)
    else:
        assert window.find(sub, start, end) == data.find(sub, start, end)
        assert window.rfind(sub, start, end) == data.rfind(sub, start, end)
    assert len(window) == len(data)
    assert window[start:end] == data[start:end]
    assert window[-2:] == data[-2:]


def test_file_window_reads_at_most_its_largest_window():
    data = b"x" * (5 * MAX_READ) + b"\nPackage: wanted\n"
    file = BytesFile(data)
    window = FileWindow(file)
    assert window.find(b"\nPackage: wanted\n") == 5 * MAX_READ
    assert window.find(b"\nPackage: absent\n") == -1
    assert window.rfind(b"\n", 0, 5 * MAX_READ) == -1
    assert max(file.reads) <= MAX_READ
    assert sum(file.reads) > len(data)  # the scans did cover it all, a window at a time


def test_file_window_of_a_file_that_shrinks_while_it_is_read(tmp_path: Path):
    path = tmp_path / "status"
    path.write_bytes(DEBIAN_STATUS)
    file = Root(str(tmp_path)).open_file("/status")
    assert file is not None
    try:
        window = FileWindow(file)
        os.truncate(path, 1000)  # another process cuts it after we opened it
        assert len(window) == len(DEBIAN_STATUS)  # as it was when opened ...
        assert window.find(b"Package: zlib1g") == -1  # ... but only what is still there is read
        assert window[900:1100] == DEBIAN_STATUS[900:1000]
        assert window[-2:] == b""
        assert find_package(window, "zlib1g") is None
    finally:
        file.close()


# Root.open_file ---------------------------------------------------------------------------------------------


def test_open_file_reads_pieces_of_a_regular_file(tmp_path: Path):
    (tmp_path / "var/lib/dpkg").mkdir(parents=True)
    (tmp_path / STATUS).write_bytes(DEBIAN_STATUS)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/status-link").symlink_to("/" + STATUS)  # absolute: resolved inside the root
    root = Root(str(tmp_path))
    for path in ("/" + STATUS, "/etc/status-link"):
        file = root.open_file(path)
        assert file is not None
        assert file.size == len(DEBIAN_STATUS)
        assert file.read_at(0, 9) == b"Package: "
        assert file.read_at(len(DEBIAN_STATUS) - 2, 100) == b"\n\n"
        file.close()
        file.close()  # a second close does nothing
    assert root.problems == []


def test_open_file_refuses_what_is_not_a_regular_file(tmp_path: Path):
    (tmp_path / "var/lib/dpkg/status").mkdir(parents=True)
    os.mkfifo(tmp_path / "fifo")
    root = Root(str(tmp_path))
    assert root.open_file("/var/lib/dpkg/status") is None
    assert root.open_file("/fifo") is None  # opened without blocking: no hang
    assert root.open_file("/missing") is None  # silently
    assert root.problems == ["/var/lib/dpkg/status: a folder, not read", "/fifo: not a regular file, not read"]


# The dpkg search, through windows ---------------------------------------------------------------------------


def _windowed(status: bytes) -> tuple[FileWindow, BytesFile]:
    file = BytesFile(status)
    return FileWindow(file), file


@pytest.mark.parametrize("case", sorted(p.name for p in LINUX.iterdir() if (p / "root" / STATUS).exists()), ids=str)
def test_windowed_search_agrees_with_the_bytes_search_on_every_fixture(case: str):
    status = (LINUX / case / "root" / STATUS).read_bytes()
    window, _ = _windowed(status)
    names = {stanza_name(stanza).decode() for stanza in status.split(b"\n\n") if stanza.startswith(b"Package: ")}
    for name in [*sorted(names), "firefox", "aaa", "zzz"]:
        assert find_package(window, name) == find_package(status, name), name


@pytest.fixture(scope="module")
def big_status() -> bytes:
    status = grown_status(30_000)
    assert len(status) > 16 * 1024 * 1024  # more than the old limit, above which nothing was read
    return status


def test_a_30000_package_status_is_searched_reading_a_sliver(big_status: bytes):
    window, file = _windowed(big_status)
    for name in BROWSER_PACKAGES:
        assert find_package(window, name) == find_package(DEBIAN_STATUS, name)
    # Five look-ups read a few hundred KB of the 32 MB: a binary search (about 20 small reads each, one per
    # halving of the file), not a pass over it.
    assert len(file.reads) <= 5 * 20
    assert sum(file.reads) < 1024 * 1024
    for stanza in real_stanzas():
        name = stanza_name(stanza).decode()
        assert find_package(window, name) == find_package(DEBIAN_STATUS, name), name
    for name in ("firefox", "lib", "zzz", "firefox-esr-l10n-19"):
        assert find_package(window, name) == find_package(big_status, name), name


def test_an_unsorted_30000_package_status_is_scanned_a_window_at_a_time(big_status: bytes):
    shuffled = grown_status(30_000, shuffle=True)
    window, file = _windowed(shuffled)
    for name in (*BROWSER_PACKAGES, "adduser", "zlib1g"):
        assert find_package(window, name) == find_package(DEBIAN_STATUS, name), name
    assert find_package(window, "no-such-package") is None
    assert max(file.reads) <= MAX_READ


# Damage ------------------------------------------------------------------------------------------------------


def test_a_stanza_longer_than_the_limit_is_damage_and_hides_nothing_else():
    stanzas = [s for s in DEBIAN_STATUS.split(b"\n\n") if s.strip()]
    index = next(i for i, s in enumerate(stanzas) if s.startswith(b"Package: evince\n"))
    stanzas[index] += b"\n" + b" a line of a very long description\n" * (MAX_STANZA // 30)
    status = b"".join(stanza + b"\n\n" for stanza in stanzas)
    for searched in (status, _windowed(status)[0]):
        evince = find_package(searched, "evince")
        assert evince is not None
        assert (evince.version, evince.problem) == ("43.1-2+deb12u1", TOO_LONG)
        assert find_package(searched, "evince-common").problem is None
        assert find_package(searched, "zlib1g").version == "1:1.2.13.dfsg-1"


# A whole machine ----------------------------------------------------------------------------------------------


def _debian(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(DEBIAN, root, symlinks=True)
    return root


def test_a_status_that_cannot_be_read_is_unknown_not_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = _debian(tmp_path)

    def failing(self: fsroot.OpenFile, offset: int, size: int) -> bytes:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(fsroot.OpenFile, "read_at", failing)
    inventory = inspect_machine("linux", str(root), env={})
    evince = next(item for item in inventory.software if item.product == "evince")
    assert evince.version is None
    assert evince.problem == "/var/lib/dpkg/status: the entry for evince cannot be read: Input/output error"


def _open_files() -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the listing's own descriptor, closed since
            continue
    return found


def test_the_status_file_is_closed_after_the_inspection(tmp_path: Path):
    root = _debian(tmp_path)
    inventory = inspect_machine("linux", str(root), env={})
    assert {item.source for item in inventory.software} == {"dpkg"}  # the database was opened and used
    assert not [path for path in _open_files() if path.startswith(str(root))]
