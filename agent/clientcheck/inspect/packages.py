"""Which package owns a file, and at what version: dpkg, rpm and pacman behind one small interface."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from clientcheck.inspect.formats import dpkg, pacman
from clientcheck.inspect.fsroot import Root
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
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

    def owner(self, path: str) -> Owner | None:
        """The package that installed the file at ``path``."""
        raise NotImplementedError

    def package(self, name: str) -> Owner | None:
        """The installed package called ``name``."""
        raise NotImplementedError


class DpkgDatabase(PackageDatabase):
    manager = "dpkg"
    STATUS = "/var/lib/dpkg/status"
    INFO = "/var/lib/dpkg/info"

    def __init__(self, root: Root, status: bytes, likely: Iterable[str]) -> None:
        self._root = root
        self._status = status
        self._known = dpkg.find_packages(status, likely)
        self._lists: dict[str, bytes | None] = {}

    def _list_bytes(self, package: dpkg.DpkgPackage) -> bytes | None:
        if package.name not in self._lists:
            data = self._root.read_bytes(f"{self.INFO}/{package.name}.list")
            if data is None and package.architecture:
                data = self._root.read_bytes(f"{self.INFO}/{package.name}:{package.architecture}.list")
            self._lists[package.name] = data
        return self._lists[package.name]

    def _as_owner(self, package: dpkg.DpkgPackage) -> Owner:
        problem = None if package.version else f"{self.STATUS}: no Version for package {package.name!r}"
        return Owner(self.manager, package.name, package.version, problem)

    def owner(self, path: str) -> Owner | None:
        for package in self._known.values():
            data = self._list_bytes(package)
            if package.installed and data is not None and dpkg.list_contains(data, path):
                return self._as_owner(package)
        # Not one of the packages the catalog expects: look through every file list (rare, so not cached).
        for name in self._root.listdir(self.INFO):
            if not name.endswith(".list"):
                continue
            data = self._root.read_bytes(f"{self.INFO}/{name}")
            if data is not None and dpkg.list_contains(data, path):
                package_name = name.removesuffix(".list").split(":")[0]
                owning = dpkg.find_packages(self._status, [package_name]).get(package_name)
                if owning is not None and owning.installed:
                    return self._as_owner(owning)
        return None

    def package(self, name: str) -> Owner | None:
        found = self._known.get(name) or dpkg.find_packages(self._status, [name]).get(name)
        return self._as_owner(found) if found and found.installed else None


class RpmPackages(PackageDatabase):
    manager = "rpm"

    def __init__(self, database: RpmDatabase) -> None:
        self._database = database

    def owner(self, path: str) -> Owner | None:
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

    def owner(self, path: str) -> Owner | None:
        if path.startswith(("/usr/", "/opt/")):
            return Owner(self.manager, posixpath.basename(path), None, self.problem)
        return None

    def package(self, name: str) -> Owner | None:
        return None


class PacmanDatabase(PackageDatabase):
    manager = "pacman"
    LOCAL = "/var/lib/pacman/local"

    def __init__(self, root: Root, likely: Iterable[str]) -> None:
        self._root = root
        self._likely = sorted(set(likely))
        self._entries: dict[str, tuple[str, str]] = {}  # name -> (directory, version)
        for directory in root.listdir(self.LOCAL):
            parsed = pacman.entry_name_and_version(directory)
            if parsed is not None:
                self._entries[parsed[0]] = (directory, parsed[1])

    def _version(self, name: str, directory: str, fallback: str) -> Owner:
        desc = self._root.read_text(f"{self.LOCAL}/{directory}/desc")
        if desc is None:
            return Owner(self.manager, name, None, f"{self.LOCAL}/{directory}/desc: missing")
        versions = pacman.parse_sections(desc).get("VERSION")
        if not versions:
            return Owner(self.manager, name, None, f"{self.LOCAL}/{directory}/desc: no %VERSION%")
        return Owner(self.manager, name, versions[0] or fallback)

    def owner(self, path: str) -> Owner | None:
        names = [name for name in self._likely if name in self._entries]
        names += [name for name in self._entries if name not in names]
        for name in names:
            directory, version = self._entries[name]
            files = self._root.read_text(f"{self.LOCAL}/{directory}/files")
            if files is not None and pacman.files_contain(files, path):
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


def open_package_databases(root: Root, likely_packages: list[str]) -> list[PackageDatabase]:
    """Every package database the machine has (a few have more than one: rpm on Debian, for example)."""
    databases: list[PackageDatabase] = []
    status = root.read_bytes(DpkgDatabase.STATUS)
    if status is not None:
        databases.append(DpkgDatabase(root, status, likely_packages))
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
        databases.append(PacmanDatabase(root, likely_packages))
    return databases
