"""Which package owns a file, and at what version: dpkg, rpm and pacman behind one small interface."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional, Protocol

from clientcheck.inspect.formats import dpkg, pacman
from clientcheck.inspect.fsroot import Root
from clientcheck.inspect.rpmdb import RpmDatabase, RpmDatabaseError


@dataclass(frozen=True)
class Owner:
    manager: str  # "dpkg", "rpm", "pacman"
    package: str
    version: Optional[str]  # as the database writes it; None when the database lost it
    problem: Optional[str] = None


class PackageDatabase(Protocol):
    manager: str

    def owner(self, path: str) -> Optional[Owner]: ...

    def package(self, name: str) -> Optional[Owner]: ...


class DpkgDatabase:
    manager = "dpkg"
    STATUS = "/var/lib/dpkg/status"
    INFO = "/var/lib/dpkg/info"

    def __init__(self, root: Root, status_text: str, likely: Iterable[str]) -> None:
        self._root = root
        self._status = status_text
        self._likely = sorted(set(likely))
        self._known = dpkg.find_packages(status_text, self._likely)
        self._lists: dict[str, Optional[str]] = {}

    def _list_text(self, package: dpkg.DpkgPackage) -> Optional[str]:
        if package.name not in self._lists:
            text = self._root.read_text(f"{self.INFO}/{package.name}.list")
            if text is None and package.architecture:
                text = self._root.read_text(f"{self.INFO}/{package.name}:{package.architecture}.list")
            self._lists[package.name] = text
        return self._lists[package.name]

    def _as_owner(self, package: dpkg.DpkgPackage) -> Owner:
        problem = None if package.version else f"{self.STATUS}: no Version for package {package.name!r}"
        return Owner(self.manager, package.name, package.version, problem)

    def owner(self, path: str) -> Optional[Owner]:
        for package in self._known.values():
            text = self._list_text(package)
            if package.installed and text is not None and dpkg.list_contains(text, path):
                return self._as_owner(package)
        # Not one of the packages the catalog expects: look through every file list (rare, so not cached).
        for name in self._root.listdir(self.INFO):
            if not name.endswith(".list"):
                continue
            text = self._root.read_text(f"{self.INFO}/{name}")
            if text is not None and dpkg.list_contains(text, path):
                found = dpkg.find_packages(self._status, [name[: -len(".list")].split(":")[0]])
                for package in found.values():
                    if package.installed:
                        return self._as_owner(package)
        return None

    def package(self, name: str) -> Optional[Owner]:
        found = self._known.get(name) or dpkg.find_packages(self._status, [name]).get(name)
        return self._as_owner(found) if found and found.installed else None


class RpmPackages:
    manager = "rpm"

    def __init__(self, database: RpmDatabase) -> None:
        self._database = database

    def owner(self, path: str) -> Optional[Owner]:
        try:
            found = self._database.owner(path)
        except RpmDatabaseError as error:
            return Owner(self.manager, posixpath.basename(path), None, str(error))
        return Owner(self.manager, found.name, found.evr) if found else None

    def package(self, name: str) -> Optional[Owner]:
        try:
            found = self._database.packages([name]).get(name)
        except RpmDatabaseError:
            return None
        return Owner(self.manager, found.name, found.evr) if found else None


class UnreadableRpm:
    """A machine whose rpm database exists but cannot be read: apps it owns are reported unknown."""

    manager = "rpm"

    def __init__(self, problem: str) -> None:
        self.problem = problem

    def owner(self, path: str) -> Optional[Owner]:
        if path.startswith(("/usr/", "/opt/")):
            return Owner(self.manager, posixpath.basename(path), None, self.problem)
        return None

    def package(self, name: str) -> Optional[Owner]:
        return None


class PacmanDatabase:
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

    def owner(self, path: str) -> Optional[Owner]:
        names = [name for name in self._likely if name in self._entries]
        names += [name for name in self._entries if name not in names]
        for name in names:
            directory, version = self._entries[name]
            files = self._root.read_text(f"{self.LOCAL}/{directory}/files")
            if files is not None and pacman.files_contain(files, path):
                return self._version(name, directory, version)
        return None

    def package(self, name: str) -> Optional[Owner]:
        entry = self._entries.get(name)
        return self._version(name, *entry) if entry else None


def open_package_databases(root: Root, likely_packages: list[str]) -> list[PackageDatabase]:
    """Every package database the machine has (a few have more than one: rpm on Debian, for example)."""
    databases: list[PackageDatabase] = []
    status = root.read_text(DpkgDatabase.STATUS)
    if status is not None:
        databases.append(DpkgDatabase(root, status, likely_packages))
    try:
        rpm = RpmDatabase.open(root)
        if rpm is not None:
            databases.append(RpmPackages(rpm))
    except RpmDatabaseError as error:
        databases.append(UnreadableRpm(str(error)))
    if root.is_dir(PacmanDatabase.LOCAL):
        databases.append(PacmanDatabase(root, likely_packages))
    return databases
