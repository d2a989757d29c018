"""Which package owns a file, and at what version: dpkg, rpm and pacman behind one small interface."""

from __future__ import annotations

import posixpath

from clientcheck.inspect.formats import dpkg
from clientcheck.inspect.fsroot import Root
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Protocol

    from clientcheck.inspect.formats.dpkg import Searchable
    from clientcheck.inspect.fsroot import OpenFile
    from clientcheck.inspect.rpmdb import RpmDatabase

    class Readable(Protocol):
        size: int

        def read_at(self, offset: int, size: int) -> bytes: ...


class Owner(Record):
    __slots__ = ("manager", "package", "version", "problem")

    manager: str  # "dpkg", "rpm", "pacman"
    package: str
    version: str | None  # as the database writes it; None when the database lost it
    problem: str | None

    def __init__(self, manager: str, package: str, version: str | None, problem: str | None = None) -> None:
        self._set(locals())


class PackageDatabase:
    """One package manager's database on the machine."""

    manager = ""

    def owner(self, path: str, candidates: Iterable[str]) -> Owner | None:
        """The package that installed the file at ``path``. ``candidates`` are the packages the catalog
        expects for the product: databases without a file index check those instead of every package."""
        raise NotImplementedError

    def package(self, name: str) -> Owner | None:
        """The installed package called ``name``."""
        raise NotImplementedError

    def close(self) -> None:
        """Let go of the files held open for look-ups."""


HIDES_VERSIONS = "the versions of packaged applications"


class DpkgDatabase(PackageDatabase):
    """dpkg's status file, searched where it lies (never read whole: it grows by about 1 MB per thousand
    packages), and the file lists of the packages asked about."""

    manager = "dpkg"
    STATUS = "/var/lib/dpkg/status"
    INFO = "/var/lib/dpkg/info"
    ARCHITECTURES = "/var/lib/dpkg/arch"
    COMMON_ARCHITECTURES = ("amd64", "arm64", "i386", "armhf", "ppc64el", "s390x", "riscv64")

    def __init__(self, root: Root, status: Searchable, file: OpenFile | None = None) -> None:
        self._root = root
        self._status = status
        self._file = file
        self._lists: dict[str, tuple[str, bytes] | None] = {}
        self._packages: dict[str, dpkg.DpkgPackage | None] = {}
        # Multi-arch packages keep their file list in "<name>:<arch>.list".
        listed = (root.read_text(self.ARCHITECTURES) or "").split()
        self._architectures = tuple(dict.fromkeys([*listed, *self.COMMON_ARCHITECTURES]))
        self.damage: str | None = None  # what is wrong with the file as a whole: said once, as a warning
        self._cut_short = False
        try:
            self._cut_short = dpkg.ends_cut_short(status)
            if self._cut_short:
                last = dpkg.last_stanza_name(status)
                entry = f"the entry for {last}" if last else "its last entry"
                self.damage = f"{self.STATUS}: {entry} is cut short (the file ends inside it)"
        except OSError as error:
            self.damage = f"{self.STATUS}: cannot read: {error.strerror or type(error).__name__}"

    @classmethod
    def open(cls, root: Root) -> DpkgDatabase | None:
        """The machine's dpkg database, None when it has none (or its status file cannot be opened: noted
        in the root's problems). Damage to the file is noted there too."""
        file = root.open_file(cls.STATUS, hides=HIDES_VERSIONS)
        if file is None:
            return None
        database = cls(root, FileWindow(file), file)
        if database.damage is not None:
            root.problems.append(database.damage)
        return database

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def _file_list(self, name: str) -> tuple[str, bytes] | None:
        """Where the package's file list is, and its bytes."""
        if name not in self._lists:
            found = None
            for path in (f"{self.INFO}/{name}.list", *(f"{self.INFO}/{name}:{a}.list" for a in self._architectures)):
                data = self._root.read_bytes(path, hides=HIDES_VERSIONS)
                if data is not None:
                    found = path, data
                    break
            self._lists[name] = found
        return self._lists[name]

    def _package(self, name: str) -> dpkg.DpkgPackage | None:
        """The package's stanza, looked up once per run however often it is asked for."""
        if name not in self._packages:
            try:
                self._packages[name] = dpkg.find_package(self._status, name)
            except OSError as error:
                problem = f"cannot be read: {error.strerror or type(error).__name__}"
                self._packages[name] = dpkg.DpkgPackage(name, None, None, installed=False, problem=problem)
        return self._packages[name]

    def _as_owner(self, name: str, package: dpkg.DpkgPackage) -> Owner:
        if package.problem is not None:
            return Owner(self.manager, name, None, f"{self.STATUS}: the entry for {name} {package.problem}")
        problem = None if package.version else f"{self.STATUS}: no Version for package {name!r}"
        return Owner(self.manager, name, package.version, problem)

    def owner(self, path: str, candidates: Iterable[str]) -> Owner | None:
        cut: Owner | None = None  # a candidate whose file list is cut short: it may have listed the path
        for name in candidates:
            listed = self._file_list(name)
            if listed is None:
                continue
            list_path, files = listed
            if not dpkg.list_contains(files, path):
                if cut is None and dpkg.list_cut_short(files):
                    package = self._package(name)
                    if package is not None and (package.installed or package.problem is not None):
                        problem = f"{list_path}: cut short (it ends inside a line), so it may not list {path}"
                        cut = Owner(self.manager, name, None, problem)
                continue
            package = self._package(name)
            if package is None:
                problem = f"{self.STATUS}: no entry for package {name!r}"
                if self._cut_short:
                    problem += ", and the file is cut short: the entry may be in what was lost"
                return Owner(self.manager, name, None, problem)
            if package.installed or package.problem is not None:
                return self._as_owner(name, package)
        return cut

    def package(self, name: str) -> Owner | None:
        found = self._package(name)
        return self._as_owner(name, found) if found and (found.installed or found.problem is not None) else None


class RpmPackages(PackageDatabase):
    manager = "rpm"

    def __init__(self, database: RpmDatabase) -> None:
        self._database = database

    def owner(self, path: str, candidates: Iterable[str]) -> Owner | None:
        from clientcheck.inspect.rpmdb import RpmDatabaseError

        try:
            found = self._database.owner(path)
        except RpmDatabaseError as error:
            return Owner(self.manager, posixpath.basename(path), None, str(error))
        return Owner(self.manager, found.name, found.evr) if found else None

    def package(self, name: str) -> Owner | None:
        from clientcheck.inspect.rpmdb import RpmDatabaseError

        try:
            found = self._database.packages([name]).get(name)
        except RpmDatabaseError as error:
            return Owner(self.manager, name, None, str(error))  # a damaged database is not an absent package
        return Owner(self.manager, found.name, found.evr) if found else None


class UnreadableRpm(PackageDatabase):
    """A machine whose rpm database exists but cannot be read: apps it owns are reported unknown."""

    manager = "rpm"

    def __init__(self, problem: str) -> None:
        self.problem = problem

    def owner(self, path: str, candidates: Iterable[str]) -> Owner | None:
        if path.startswith(("/usr/", "/opt/")):
            return Owner(self.manager, posixpath.basename(path), None, self.problem)
        return None

    def package(self, name: str) -> Owner | None:
        return None


class PacmanDatabase(PackageDatabase):
    """Arch's local database. Its format module is imported here, not at start-up: most machines are not
    Arch."""

    manager = "pacman"
    LOCAL = "/var/lib/pacman/local"

    def __init__(self, root: Root) -> None:
        from clientcheck.inspect.formats import pacman

        self._format = pacman
        self._root = root
        self._entries: dict[str, tuple[str, str]] = {}  # name -> (directory, version)
        for directory in root.listdir(self.LOCAL, hides=HIDES_VERSIONS):
            parsed = self._format.entry_name_and_version(directory)
            if parsed is not None:
                self._entries[parsed[0]] = (directory, parsed[1])

    def _version(self, name: str, directory: str, fallback: str) -> Owner:
        path = f"{self.LOCAL}/{directory}/desc"
        desc = self._root.read_text(path)
        if desc is None:
            return Owner(self.manager, name, None, f"{path}: missing")
        if self._format.cut_short(desc):
            return Owner(self.manager, name, None, f"{path}: cut short (the file ends inside a section)")
        versions = self._format.parse_sections(desc).get("VERSION")
        if not versions:
            return Owner(self.manager, name, None, f"{path}: no %VERSION%")
        return Owner(self.manager, name, versions[0] or fallback)

    def owner(self, path: str, candidates: Iterable[str]) -> Owner | None:
        cut: Owner | None = None  # a candidate whose file list is cut short: it may have listed the path
        for name in candidates:
            if name not in self._entries:
                continue
            directory, version = self._entries[name]
            files_path = f"{self.LOCAL}/{directory}/files"
            files = self._root.read_text(files_path)
            if files is None:
                continue
            if self._format.files_contain(files, path):
                return self._version(name, directory, version)
            if cut is None and self._format.cut_short(files):
                problem = f"{files_path}: cut short (the file ends inside a section), so it may not list {path}"
                cut = Owner(self.manager, name, None, problem)
        return cut

    def package(self, name: str) -> Owner | None:
        entry = self._entries.get(name)
        return self._version(name, *entry) if entry else None


RPM_DATABASE_FILES = (
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
    "/var/lib/rpm/rpmdb.sqlite",
    "/var/lib/rpm/Packages",
    "/usr/lib/sysimage/rpm/Packages.db",
    "/var/lib/rpm/Packages.db",
)


def open_package_databases(root: Root) -> list[PackageDatabase]:
    """Every package database the machine has (a few have more than one: rpm on Debian, for example)."""
    databases: list[PackageDatabase] = []
    dpkg_database = DpkgDatabase.open(root)
    if dpkg_database is not None:
        databases.append(dpkg_database)
    if any(root.is_file(path) for path in RPM_DATABASE_FILES):
        # Imported only here: sqlite3 costs start-up time that dpkg and pacman machines need not pay.
        from clientcheck.inspect.rpmdb import RpmDatabase, RpmDatabaseError

        try:
            rpm = RpmDatabase.open(root)
            if rpm is not None:
                databases.append(RpmPackages(rpm))
        except RpmDatabaseError as error:
            databases.append(UnreadableRpm(str(error)))
            where, _, problem = str(error).partition(": ")
            root.record(where, problem or "cannot read", HIDES_VERSIONS)
    if root.is_dir(PacmanDatabase.LOCAL):
        databases.append(PacmanDatabase(root))
    return databases


# A large file seen through a small window -------------------------------------------------------------------
#
# ``len``, ``find``, ``rfind`` and slices, as ``bytes`` has them, read with positioned reads of at most
# ``MAX_READ`` bytes: the dpkg status search, written against those four operations, runs unchanged on
# ``bytes`` in tests and on a file of any size here, and peak memory stays the size of one window instead of
# the file's. (Here, not in a module of its own: one import less at every start.)

FIRST_READ = 4 * 1024  # one probe of a binary search: the stanza or two around the probed offset
MAX_READ = 1024 * 1024  # a long scan reads this much at a time at most
KEPT_PROBES = 32  # the first probes' windows kept (128 KiB): the top of every binary search of the file


def _adjust(start: int, end: int | None, length: int) -> tuple[int, int]:
    """``start`` and ``end`` as ``bytes.find`` reads them: negative from the end, ``end`` capped at the length
    (``start`` is not capped: past the end, nothing is found, not even ``b""``)."""
    end = length if end is None or end > length else end
    if end < 0:
        end = max(end + length, 0)
    if start < 0:
        start = max(start + length, 0)
    return start, end


class FileWindow:
    """The bytes of ``file`` (an ``OpenFile``), read a window at a time. The last window read is kept, so a
    search that probes near its previous probe (a binary search closing in, a stanza's next line) costs no
    read; so are the first windows read, by where they start: every binary search of the file probes the
    same middles first. ``OSError`` from the file passes through."""

    __slots__ = ("_file", "_size", "_start", "_window", "_first_read", "_max_read", "_probes")

    def __init__(self, file: Readable, first_read: int = FIRST_READ, max_read: int = MAX_READ) -> None:
        self._file = file
        self._size = file.size
        self._start = 0
        self._window = b""
        self._first_read = first_read
        self._max_read = max_read
        self._probes: dict[int, bytes] = {}  # start -> window, the first KEPT_PROBES read

    def __len__(self) -> int:
        return self._size

    def _read(self, start: int, stop: int) -> bytes:
        """Bytes ``[start, stop)`` (fewer if the file shrank), from the kept window when it holds them."""
        offset = start - self._start
        if offset >= 0 and stop - self._start <= len(self._window):
            return self._window[offset : stop - self._start]
        kept = self._probes.get(start)
        if kept is not None and stop - start <= len(kept):
            self._window, self._start = kept, start
            return kept[: stop - start]
        # Read a little more than asked: the next request is most often just after this one.
        self._window = self._file.read_at(start, min(max(stop, start + self._first_read), self._size) - start)
        self._start = start
        if len(self._probes) < KEPT_PROBES and len(self._window) <= self._first_read:  # probes, not scans
            self._probes[start] = self._window
        return self._window[: stop - start]

    def __getitem__(self, index: slice) -> bytes:
        start, stop, step = index.indices(self._size)
        if step != 1:
            raise ValueError("a file window is sliced with step 1 only")
        return self._read(start, stop) if stop > start else b""

    def find(self, sub: bytes, start: int = 0, end: int | None = None, /) -> int:
        start, end = _adjust(start, end, self._size)
        if end - start < len(sub):
            return -1
        if not sub:
            return start
        size = self._first_read
        position = start
        while True:
            stop = min(end, position + max(size, 2 * len(sub)))
            window = self._read(position, stop)
            found = window.find(sub)
            if found != -1:
                return position + found
            if stop == end or len(window) < stop - position:  # the end, or the file shrank
                return -1
            position = stop - len(sub) + 1  # a match may straddle the windows' border
            size = min(size * 2, self._max_read)

    def rfind(self, sub: bytes, start: int = 0, end: int | None = None, /) -> int:
        start, end = _adjust(start, end, self._size)
        if end - start < len(sub):
            return -1
        if not sub:
            return end
        size = self._first_read
        stop = end
        while True:
            begin = max(start, stop - max(size, 2 * len(sub)))
            found = self._read(begin, stop).rfind(sub)
            if found != -1:
                return begin + found
            if begin == start:
                return -1
            stop = begin + len(sub) - 1
            size = min(size * 2, self._max_read)
