"""Package databases of any size, and half-written ones.

- ``FileWindow`` answers ``find``, ``rfind`` and slices exactly as ``bytes`` does, reading small windows;
- the dpkg status search gives the same answers through it as over the file's bytes, on the fixtures and
  on a generated 30,000-package file, sorted or not, and reads a sliver of a sorted file;
- a file that ends inside a stanza (or a ``.list`` inside a line, a pacman ``desc`` or ``files`` inside a
  section) is damage: the package is reported unknown with the reason, never read as whole, while the
  files dpkg itself writes (checked against the real dpkg, in a throw-away root) are never suspect.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientcheck.inspect import fsroot, inspect_machine
from clientcheck.inspect.formats.dpkg import (
    CUT_SHORT,
    MAX_STANZA,
    TOO_LONG,
    DpkgPackage,
    ends_cut_short,
    find_package,
    last_stanza_name,
)
from clientcheck.inspect.fsroot import Root
from clientcheck.inspect.packages import FIRST_READ, KEPT_PROBES, MAX_READ, DpkgDatabase, FileWindow, RpmPackages
from clientcheck.inspect.rpmdb import RpmDatabaseError
from dpkg_machines import grown_status, real_stanzas, stanza_name

LINUX = Path(__file__).resolve().parents[1] / "fixtures" / "linux"
DEBIAN = LINUX / "debian-12-desktop" / "root"
ARCH = LINUX / "arch-rolling" / "root"
DESIGN_EXAMPLE = Path(__file__).resolve().parents[2] / "rules" / "examples" / "design-example.json"
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
        assert ends_cut_short(window)
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
    assert (ends_cut_short(window), last_stanza_name(window)) == (ends_cut_short(status), last_stanza_name(status))


@pytest.fixture(scope="module")
def big_status() -> bytes:
    status = grown_status(30_000)
    assert len(status) > 16 * 1024 * 1024  # more than the old limit, above which nothing was read
    return status


def test_a_30000_package_status_is_searched_reading_a_sliver(big_status: bytes):
    window, file = _windowed(big_status)
    for name in BROWSER_PACKAGES:
        assert find_package(window, name) == find_package(DEBIAN_STATUS, name)
    assert not ends_cut_short(window)
    # Five look-ups read a few hundred KB of the 32 MB: a binary search (about 20 small reads each, one per
    # halving of the file), not a pass over it.
    assert len(file.reads) <= 5 * 20
    assert sum(file.reads) < 1024 * 1024
    for stanza in real_stanzas():
        name = stanza_name(stanza).decode()
        assert find_package(window, name) == find_package(DEBIAN_STATUS, name), name
    for name in ("firefox", "lib", "zzz", "firefox-esr-l10n-19"):
        assert find_package(window, name) == find_package(big_status, name), name


def test_later_look_ups_reuse_the_probes_every_binary_search_starts_with(big_status: bytes):
    # Each search of the same file halves it at the same offsets first: those windows are kept, so the
    # look-ups of one check share the top of their paths instead of each reading it again.
    window, file = _windowed(big_status)
    alone = 0
    for name in BROWSER_PACKAGES:
        assert find_package(window, name) == find_package(DEBIAN_STATUS, name)
        by_itself, by_itself_file = _windowed(big_status)
        find_package(by_itself, name)
        alone += len(by_itself_file.reads)
    # At least the first halving is read once, not five times; in practice, the first two or three.
    assert len(file.reads) <= alone - (len(BROWSER_PACKAGES) - 1), (len(file.reads), alone)
    # What is kept stays small: probes of a few KiB, never a scan's megabyte windows.
    shuffled, _ = _windowed(grown_status(30_000, shuffle=True))
    assert find_package(shuffled, "zlib1g") == find_package(DEBIAN_STATUS, "zlib1g")
    assert sum(len(kept) for kept in shuffled._probes.values()) <= KEPT_PROBES * FIRST_READ


def test_an_unsorted_30000_package_status_is_scanned_a_window_at_a_time(big_status: bytes):
    shuffled = grown_status(30_000, shuffle=True)
    window, file = _windowed(shuffled)
    for name in (*BROWSER_PACKAGES, "adduser", "zlib1g"):
        assert find_package(window, name) == find_package(DEBIAN_STATUS, name), name
    assert find_package(window, "no-such-package") is None
    assert max(file.reads) <= MAX_READ


# Cut short: dpkg ----------------------------------------------------------------------------------------------


def test_every_cut_inside_the_last_stanza_is_damage():
    """dpkg's own file, cut at every byte of its last stanza: the stanza is never read as whole."""
    start = DEBIAN_STATUS.rindex(b"Package: zlib1g")
    for cut in range(start, len(DEBIAN_STATUS) - 1):
        status = DEBIAN_STATUS[:cut]
        for searched in (status, _windowed(status)[0]):
            package = find_package(searched, "zlib1g")
            assert package is None or package.problem == CUT_SHORT, cut
            assert find_package(searched, "xpdf") == DpkgPackage("xpdf", "3.04+git20220601-1+b2", "amd64", False)
        assert ends_cut_short(status) is (cut != start)  # cut just before the stanza: a whole, shorter file
    assert not ends_cut_short(DEBIAN_STATUS)
    assert find_package(DEBIAN_STATUS, "zlib1g").problem is None


@pytest.mark.parametrize(
    ("tail", "name"),
    [
        pytest.param(b"Package: zlib1g\nStatus: inst", "zlib1g", id="inside-status"),
        pytest.param(b"Package: zlib1g\n", "zlib1g", id="after-the-package-line"),
        pytest.param(b"Package: zlib", None, id="inside-the-name"),
        pytest.param(b"Pack", None, id="inside-the-field-name"),
        pytest.param(b"\n", None, id="one-newline-short"),
    ],
)
def test_the_name_of_the_stanza_the_file_ends_inside(tail: bytes, name: str | None):
    complete = DEBIAN_STATUS[: DEBIAN_STATUS.rindex(b"Package: zlib1g")]
    status = complete + tail if tail != b"\n" else DEBIAN_STATUS[:-1]
    assert ends_cut_short(status)
    expected = "zlib1g" if tail == b"\n" else name
    assert last_stanza_name(status) == expected


def test_a_file_dpkg_ends_is_not_cut_short():
    assert not ends_cut_short(b"")  # dpkg writes an empty file for an empty database
    assert not ends_cut_short(DEBIAN_STATUS)
    assert not ends_cut_short(b"Package: a\nVersion: 1\n\n\n")


def _multiarch(amd64_state: str) -> bytes:
    """libgcc-s1 for amd64 (in ``amd64_state``) and i386, the i386 stanza cut short at the file's end."""
    original = next(s for s in DEBIAN_STATUS.split(b"\n\n") if s.startswith(b"Package: libgcc-s1\n"))
    amd64 = original.replace(b"Status: install ok installed", f"Status: {amd64_state}".encode())
    i386 = original.replace(b"Architecture: amd64", b"Architecture: i386")
    return amd64 + b"\n\n" + i386[: i386.index(b"Version: ") + 12]


def test_an_intact_installed_stanza_wins_over_a_cut_one():
    package = find_package(_multiarch("install ok installed"), "libgcc-s1")
    assert package == DpkgPackage("libgcc-s1", "12.2.0-14+deb12u1", "amd64", True)


def test_a_cut_stanza_wins_over_one_that_is_not_installed():
    package = find_package(_multiarch("deinstall ok config-files"), "libgcc-s1")
    assert package is not None
    assert (package.architecture, package.problem) == ("i386", CUT_SHORT)


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


# Cut short, as a whole machine sees it ---------------------------------------------------------------------


def _debian(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(DEBIAN, root, symlinks=True)
    return root


def _moved_to_the_end(name: bytes, version: bytes | None = None) -> bytes:
    """The fixture's status with one stanza moved last (as another tool may leave it), its version changed."""
    stanzas = [s for s in DEBIAN_STATUS.split(b"\n\n") if s.strip()]
    original = next(s for s in stanzas if stanza_name(s) == name)
    moved = original
    if version is not None:
        old = original[original.index(b"\nVersion: ") + 10 :].split(b"\n", 1)[0]
        moved = original.replace(b"Version: " + old, b"Version: " + version)
    return b"".join(s + b"\n\n" for s in stanzas if s is not original) + moved + b"\n\n"


def test_a_cut_version_never_makes_an_owed_browser_ok(tmp_path: Path, run_cli):
    """The issue's case: ``153.6~rc1`` cut to ``153.6`` turned an owed Firefox ESR into "ok"."""
    root = _debian(tmp_path)
    (root / "usr/lib/firefox-esr/application.ini").unlink()  # else Firefox's own file gives its version
    whole = _moved_to_the_end(b"firefox-esr", b"153.6~rc1-1~deb12u1")
    (root / STATUS).write_bytes(whole)
    args = ("check", "--root", str(root), "--platform", "linux", "--format", "json", "--rules", str(DESIGN_EXAMPLE))
    finding = next(f for f in run_cli(*args).json()["findings"] if f["rule"] == "firefox-esr")
    assert (finding["status"], finding["installed"]) == ("owed", "153.6~rc1")

    (root / STATUS).write_bytes(whole[: whole.rindex(b"~rc1-1~deb12u1")])  # ends "Version: 153.6"
    report = run_cli(*args).json()
    firefox = next(item for item in report["software"] if item["product"] == "firefox")
    reason = "/var/lib/dpkg/status: the entry for firefox-esr is cut short (the file ends inside it)"
    assert (firefox["version"], firefox["problem"]) == (None, reason)
    finding = next(f for f in report["findings"] if f["product"] == "firefox")
    assert finding["status"] == "unknown"
    assert report["summary"]["status"] != "ok"
    assert reason in report["warnings"]


def test_a_cut_firefox_entry_takes_the_version_from_firefox_own_file(tmp_path: Path):
    root = _debian(tmp_path)
    whole = _moved_to_the_end(b"firefox-esr", b"153.6~rc1-1~deb12u1")
    (root / STATUS).write_bytes(whole[: whole.rindex(b"~rc1-1~deb12u1")])
    inventory = inspect_machine("linux", str(root), env={})
    firefox = next(item for item in inventory.software if item.product == "firefox")
    # application.ini is whole, and says what is installed: 128.3.0, never the cut "153.6".
    assert (str(firefox.version), firefox.source) == ("128.3.0", "application.ini")


def test_a_sorted_status_cut_in_the_middle_hides_no_package(tmp_path: Path):
    root = _debian(tmp_path)
    cut = DEBIAN_STATUS.index(b"Version: ", DEBIAN_STATUS.index(b"Package: evince\n")) + 13  # "Version: 43.1"
    (root / STATUS).write_bytes(DEBIAN_STATUS[:cut])
    inventory = inspect_machine("linux", str(root), env={})
    found = {item.product: item for item in inventory.software}
    assert set(found) == {"firefox", "chromium", "chrome", "evince", "okular"}
    assert found["chromium"].version is not None  # before the cut: intact
    cut_short = "/var/lib/dpkg/status: the entry for evince is cut short (the file ends inside it)"
    assert found["evince"].problem == cut_short
    for product, package in (("chrome", "google-chrome-stable"), ("okular", "okular")):  # after the cut: lost
        assert found[product].version is None
        assert found[product].problem == (
            f"/var/lib/dpkg/status: no entry for package {package!r}, and the file is cut short: "
            "the entry may be in what was lost"
        )
    assert (str(found["firefox"].version), found["firefox"].source) == ("128.3.0", "application.ini")
    assert cut_short in inventory.warnings


def test_a_list_file_cut_inside_a_line_is_reported(tmp_path: Path):
    root = _debian(tmp_path)
    listing = root / "var/lib/dpkg/info/evince.list"
    text = listing.read_bytes()
    listing.write_bytes(text[: text.index(b"/usr/share/applications/org.gnome.Evince.desktop") + 35])
    inventory = inspect_machine("linux", str(root), env={})
    evince = next(item for item in inventory.software if item.product == "evince")
    assert evince.version is None
    assert evince.problem == (
        "/var/lib/dpkg/info/evince.list: cut short (it ends inside a line), so it may not list "
        "/usr/share/applications/org.gnome.Evince.desktop"
    )


def test_a_status_that_cannot_be_read_is_unknown_not_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = _debian(tmp_path)

    def failing(self: fsroot.OpenFile, offset: int, size: int) -> bytes:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(fsroot.OpenFile, "read_at", failing)
    inventory = inspect_machine("linux", str(root), env={})
    evince = next(item for item in inventory.software if item.product == "evince")
    assert evince.version is None
    assert evince.problem == "/var/lib/dpkg/status: the entry for evince cannot be read: Input/output error"
    assert "/var/lib/dpkg/status: cannot read: Input/output error" in inventory.warnings


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


# The real dpkg --------------------------------------------------------------------------------------------------


def _require(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is missing: CI installs it")
        pytest.skip(f"{tool} is not installed here")


def _deb(tmp_path: Path, name: str, version: str, paths: list[str]) -> Path:
    package = tmp_path / f"build-{name}"
    (package / "DEBIAN").mkdir(parents=True)
    (package / "DEBIAN/control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: Tests <tests@example.org>\n"
        f"Description: a package clientcheck's tests install\n in a throw-away root\n",
        encoding="utf-8",
    )
    for path in paths:
        (package / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (package / path.lstrip("/")).write_text("[Desktop Entry]\n", encoding="utf-8")
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(package), str(tmp_path / f"{name}.deb")],
                   check=True, capture_output=True)  # fmt: skip
    return tmp_path / f"{name}.deb"


def test_what_the_real_dpkg_writes_is_whole_and_every_cut_of_it_is_not(tmp_path: Path):
    """dpkg installs two packages into a root of the test's own (its database, its log: nothing of the
    host's), and its status and .list files are read back; then the status is cut at every byte of its
    last stanza."""
    _require("dpkg")
    root = tmp_path / "root"
    admin = root / "var/lib/dpkg"
    (admin / "info").mkdir(parents=True)
    (admin / "updates").mkdir()
    (admin / "status").write_bytes(b"")
    debs = [
        _deb(tmp_path, "firefox-esr", "153.6~rc1-1~deb12u1", ["/usr/share/applications/firefox-esr.desktop"]),
        _deb(tmp_path, "zathura", "0.5.2-1", ["/usr/share/applications/org.pwmt.zathura.desktop"]),
    ]
    subprocess.run(
        ["dpkg", f"--root={root}", f"--admindir={admin}", f"--log={tmp_path / 'dpkg.log'}", "--force-not-root",
         "--force-script-chrootless", "--force-bad-path", "--install", *map(str, debs)],
        check=True, capture_output=True,
    )  # fmt: skip
    status = (admin / "status").read_bytes()
    assert not ends_cut_short(status)
    database = DpkgDatabase.open(Root(str(root)))
    assert database is not None
    try:
        assert database.damage is None
        owner = database.owner("/usr/share/applications/firefox-esr.desktop", ["firefox-esr"])
        assert owner is not None
        assert (owner.version, owner.problem) == ("153.6~rc1-1~deb12u1", None)
    finally:
        database.close()
    last = status.rindex(b"Package: ")
    for cut in range(last + 1, len(status) - 1):
        package = find_package(status[:cut], stanza_name(status[last:]).decode())
        assert package is None or package.problem == CUT_SHORT, cut


def test_this_machines_own_dpkg_status_is_whole():
    """The host's status file, as dpkg keeps it (read only): nothing in it is suspect, and the search finds
    every package dpkg-query lists, at the version it gives."""
    _require("dpkg-query")
    if not os.path.isfile("/var/lib/dpkg/status"):
        pytest.skip("no dpkg database here")
    listed = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    database = DpkgDatabase.open(Root("/"))
    assert database is not None
    try:
        assert database.damage is None
        for line in listed:
            name, version, state = line.split("\t")
            # "libc6:i386": multi-arch packages are listed per architecture, under one name in the file.
            owner = database.package(name.split(":")[0])
            if state[1] in "iUFWt":  # installed, unpacked, half-configured, triggers awaited or pending
                assert owner is not None, name
                assert (owner.version, owner.problem) == (version, None), name
    finally:
        database.close()


# pacman and rpm ------------------------------------------------------------------------------------------------


def _arch(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(ARCH, root, symlinks=True)
    return root


def test_a_pacman_desc_cut_inside_its_version_is_reported(tmp_path: Path):
    root = _arch(tmp_path)
    desc = root / "var/lib/pacman/local/chromium-131.0.6778.85-1/desc"
    text = desc.read_text(encoding="utf-8")
    desc.write_text(text[: text.index("%VERSION%\n") + len("%VERSION%\n131.0.6778")], encoding="utf-8")
    inventory = inspect_machine("linux", str(root), env={})
    chromium = next(item for item in inventory.software if item.product == "chromium")
    assert chromium.version is None
    assert chromium.problem == (
        "/var/lib/pacman/local/chromium-131.0.6778.85-1/desc: cut short (the file ends inside a section)"
    )


def test_a_pacman_files_list_cut_short_is_reported(tmp_path: Path):
    root = _arch(tmp_path)
    files = root / "var/lib/pacman/local/chromium-131.0.6778.85-1/files"
    text = files.read_text(encoding="utf-8")
    files.write_text(text[: text.index("usr/share/applications/chromium.desktop") + 30], encoding="utf-8")
    inventory = inspect_machine("linux", str(root), env={})
    chromium = next(item for item in inventory.software if item.product == "chromium")
    assert chromium.version is None
    assert chromium.problem == (
        "/var/lib/pacman/local/chromium-131.0.6778.85-1/files: cut short (the file ends inside a section), so it "
        "may not list /usr/share/applications/chromium.desktop"
    )


def test_a_damaged_rpm_database_is_not_an_absent_package():
    damage = "/var/lib/rpm/rpmdb.sqlite: damaged package header: header blob shorter than 8 bytes"

    class Damaged:
        def packages(self, names: object) -> dict:
            raise RpmDatabaseError(damage)

    owner = RpmPackages(Damaged()).package("zathura")
    assert owner is not None
    assert (owner.package, owner.version, owner.problem) == ("zathura", None, damage)
