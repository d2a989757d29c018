"""Which package owns a file, and at what version: dpkg, rpm and pacman behind one small interface."""

from __future__ import annotations

import posixpath

from clientcheck.inspect.formats import dpkg
from clientcheck.inspect.fsroot import Root
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from clientcheck.inspect.rpmdb import RpmDatabase


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


class DpkgDatabase(PackageDatabase):
    manager = "dpkg"
    STATUS = "/var/lib/dpkg/status"
    INFO = "/var/lib/dpkg/info"
    ARCHITECTURES = "/var/lib/dpkg/arch"
    COMMON_ARCHITECTURES = ("amd64", "arm64", "i386", "armhf", "ppc64el", "s390x", "riscv64")

    def __init__(self, root: Root, status: bytes) -> None:
        self._root = root
        self._status = status
        self._lists: dict[str, bytes | None] = {}
        # Multi-arch packages keep their file list in "<name>:<arch>.list".
        listed = (root.read_text(self.ARCHITECTURES) or "").split()
        self._architectures = tuple(dict.fromkeys([*listed, *self.COMMON_ARCHITECTURES]))

    def _file_list(self, name: str) -> bytes | None:
        if name not in self._lists:
            data = self._root.read_bytes(f"{self.INFO}/{name}.list")
            for architecture in self._architectures if data is None else ():
                data = self._root.read_bytes(f"{self.INFO}/{name}:{architecture}.list")
                if data is not None:
                    break
            self._lists[name] = data
        return self._lists[name]

    def _as_owner(self, package: dpkg.DpkgPackage) -> Owner:
        problem = None if package.version else f"{self.STATUS}: no Version for package {package.name!r}"
        return Owner(self.manager, package.name, package.version, problem)

    def owner(self, path: str, candidates: Iterable[str]) -> Owner | None:
        for name in candidates:
            files = self._file_list(name)
            if files is None or not dpkg.list_contains(files, path):
                continue
            package = dpkg.find_package(self._status, name)
            if package is None:
                return Owner(self.manager, name, None, f"{self.STATUS}: no entry for package {name!r}")
            if package.installed:
                return self._as_owner(package)
        return None

    def package(self, name: str) -> Owner | None:
        found = dpkg.find_package(self._status, name)
        return self._as_owner(found) if found and found.installed else None


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
        except RpmDatabaseError:
            return None
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
        for directory in root.listdir(self.LOCAL):
            parsed = self._format.entry_name_and_version(directory)
            if parsed is not None:
                self._entries[parsed[0]] = (directory, parsed[1])

    def _version(self, name: str, directory: str, fallback: str) -> Owner:
        desc = self._root.read_text(f"{self.LOCAL}/{directory}/desc")
        if desc is None:
            return Owner(self.manager, name, None, f"{self.LOCAL}/{directory}/desc: missing")
        versions = self._format.parse_sections(desc).get("VERSION")
        if not versions:
            return Owner(self.manager, name, None, f"{self.LOCAL}/{directory}/desc: no %VERSION%")
        return Owner(self.manager, name, versions[0] or fallback)

    def owner(self, path: str, candidates: Iterable[str]) -> Owner | None:
        for name in candidates:
            if name not in self._entries:
                continue
            directory, version = self._entries[name]
            files = self._root.read_text(f"{self.LOCAL}/{directory}/files")
            if files is not None and self._format.files_contain(files, path):
                return self._version(name, directory, version)
        return None

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
    status = root.read_bytes(DpkgDatabase.STATUS)
    if status is not None:
        databases.append(DpkgDatabase(root, status))
    if any(root.is_file(path) for path in RPM_DATABASE_FILES):
        # Imported only here: sqlite3 costs start-up time that dpkg and pacman machines need not pay.
        from clientcheck.inspect.rpmdb import RpmDatabase, RpmDatabaseError

        try:
            rpm = RpmDatabase.open(root)
            if rpm is not None:
                databases.append(RpmPackages(rpm))
        except RpmDatabaseError as error:
            databases.append(UnreadableRpm(str(error)))
    if root.is_dir(PacmanDatabase.LOCAL):
        databases.append(PacmanDatabase(root))
    return databases
