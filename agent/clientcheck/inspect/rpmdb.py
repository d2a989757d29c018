"""Read rpm's sqlite database (Fedora 33+, RHEL 9+, openSUSE uses ndb) with the standard library.

rpm keeps an index table per tag beside ``Packages(hnum, blob)``; ``Basenames(key, hnum, idx)`` answers
"which package owns this file name" without reading every header.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse

from clientcheck.inspect.formats.rpmheader import RpmHeader, RpmHeaderError, RpmPackage
from clientcheck.inspect.fsroot import Root

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

DB_PATHS = ("/usr/lib/sysimage/rpm/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite")
OTHER_BACKENDS = {
    "/var/lib/rpm/Packages": "BerkeleyDB",
    "/usr/lib/sysimage/rpm/Packages.db": "ndb",
    "/var/lib/rpm/Packages.db": "ndb",
}


class RpmDatabaseError(Exception):
    pass


class RpmDatabase:
    def __init__(self, connection: sqlite3.Connection, where: str) -> None:
        self._connection = connection
        self.where = where

    @classmethod
    def open(cls, root: Root) -> RpmDatabase | None:
        """The machine's rpm database, None when it has none. Raises ``RpmDatabaseError`` when there is
        one we cannot read, so the caller can mark rpm-owned apps unknown instead of missing them."""
        for path in DB_PATHS:
            host = root.host_path(path)
            if host is not None and os.path.isfile(host):
                return cls(_connect(host, path, live=root.is_host), path)
        for path, backend in OTHER_BACKENDS.items():
            if root.is_file(path):
                raise RpmDatabaseError(f"{path}: rpm's {backend} database format is not supported")
        return None

    def owner(self, path: str) -> RpmPackage | None:
        """The package that owns the file at ``path``."""
        directory, _, basename = path.rpartition("/")
        try:
            rows = self._connection.execute(
                "SELECT Packages.blob, Basenames.idx FROM Basenames JOIN Packages "
                "ON Packages.hnum = Basenames.hnum WHERE Basenames.key = ?",
                (basename,),
            ).fetchall()
        except sqlite3.Error as error:
            raise RpmDatabaseError(f"{self.where}: {error}") from None
        for blob, index in rows:
            try:
                header = RpmHeader(bytes(blob))
                if header.file_path(index) == f"{directory}/{basename}":
                    return header.package()
            except RpmHeaderError as error:
                raise RpmDatabaseError(f"{self.where}: damaged package header: {error}") from None
        return None

    def packages(self, names: Iterable[str]) -> dict[str, RpmPackage]:
        """The installed packages among ``names``."""
        found: dict[str, RpmPackage] = {}
        try:
            for name in names:
                rows = self._connection.execute(
                    "SELECT Packages.blob FROM Name JOIN Packages ON Packages.hnum = Name.hnum WHERE Name.key = ?",
                    (name,),
                ).fetchall()
                for (blob,) in rows:
                    found[name] = RpmHeader(bytes(blob)).package()
        except sqlite3.Error as error:
            raise RpmDatabaseError(f"{self.where}: {error}") from None
        except RpmHeaderError as error:
            raise RpmDatabaseError(f"{self.where}: damaged package header: {error}") from None
        return found


def _connect(host: str, where: str, *, live: bool) -> sqlite3.Connection:
    # rpm keeps its database in WAL mode, and even a read-only open creates -shm and -wal files beside it.
    # A --root tree (a mounted disk, a captured machine) is opened "immutable": nothing is written into
    # what we inspect, and nothing else writes to it while we read. On the running machine rpm may be
    # writing, so the normal read-only open comes first, and it sees transactions not yet checkpointed.
    uri = "file:" + urllib.parse.quote(os.path.realpath(host))
    last: Exception | None = None
    options_tried = ("?mode=ro", "?mode=ro&immutable=1") if live else ("?mode=ro&immutable=1",)
    for options in options_tried:
        try:
            connection = sqlite3.connect(uri + options, uri=True)
            connection.execute("SELECT 1 FROM Packages LIMIT 1").fetchall()
        except sqlite3.Error as error:
            last = error
            continue
        return connection
    raise RpmDatabaseError(f"{where}: cannot read rpm database: {last}")
