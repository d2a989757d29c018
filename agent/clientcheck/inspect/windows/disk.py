"""Windows: the machine's system drive, for what the registry does not say: whether an install folder is
still there, the version folders of the Chromium browsers, and a program's file version.

A captured disk (``--root``) is read through ``fsroot.Root``: every path, whatever its ``..`` components
and symlinks, resolves inside the capture, never to the folders of the machine running the check.
"""

from __future__ import annotations

import os

from clientcheck.inspect.fsroot import Root
from clientcheck.version import Version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.catalog import Product

MAX_EXECUTABLE_BYTES = 1024 * 1024 * 1024  # mapped, not read: only the pages on the way are touched


class WindowsDisk:
    """The machine's system drive: the running machine's own (paths are handed to Windows as they are), or
    a captured disk below a folder of this host. There a path is found as Windows would find it, without
    regard to case, and resolved inside the capture: ``..`` stops at the drive's root, and symlinks (a
    junction, as a Linux mount shows it) lead to the capture's own folders, never to this host's."""

    def __init__(self, base: str, drive: str, *, live: bool) -> None:
        self.drive = drive
        self.live = live
        self.root = None if live else Root(base, fold_case=True)

    def machine_path(self, windows_path: str) -> str | None:
        """The path below the drive's root, ``/``-separated (``/Program Files/Google``); None when it cannot
        be looked at: another drive or a network share, a relative path, an unexpanded ``%variable%``, or an
        8.3 short name (``PROGRA~1``), which a capture does not keep."""
        path = windows_path.strip().strip('"').replace("/", "\\")
        if path.startswith("\\\\?\\"):
            path = path[4:]  # the long-path prefix: \\?\C:\…
        if path.startswith("\\\\"):
            return None  # \\server\share: another machine
        drive, colon, rest = path.partition(":")
        if colon and drive.upper() != self.drive.upper():
            return None
        if not colon:
            rest = path
        if not rest.startswith("\\") or "~" in rest or "%" in rest:
            return None
        return "/" + "/".join(part for part in rest.split("\\") if part)

    def host_path(self, windows_path: str) -> str | None:
        """Where the Windows path is on this host; None when it cannot be looked at."""
        path = self.machine_path(windows_path)
        if path is None:
            return None
        if self.root is None:
            return os.path.join(f"{self.drive}:\\", *path.split("/"))
        return self.root.host_path(path)  # resolved inside the capture, component by component

    def is_dir(self, windows_path: str) -> bool | None:
        """Whether the folder is there; None when that cannot be known."""
        host = self.host_path(windows_path)
        return None if host is None else os.path.isdir(host)

    def listdir(self, windows_path: str) -> list[str]:
        """Names in the folder, sorted; empty when it is missing or cannot be looked at."""
        path = self.machine_path(windows_path)
        if path is None:
            return []
        if self.root is not None:
            return self.root.listdir(path)  # notes a folder that cannot be read in ``problems``
        try:
            return sorted(os.listdir(os.path.join(f"{self.drive}:\\", *path.split("/"))))
        except OSError:
            return []

    @property
    def problems(self) -> list[str]:
        return self.root.problems if self.root is not None else []

    def version_folders(self, location: str) -> list[Version]:
        """Chromium-family installs keep a folder named after each installed version beside the program."""
        found = []
        for name in self.listdir(location):
            if name[:1].isdigit() and self.is_dir(f"{location}\\{name}"):
                version = Version.try_parse(name)
                if version is not None:
                    found.append(version)
        return sorted(found)

    def file_version(self, location: str, product: Product) -> Version | str | None:
        """The file version of the product's program in ``location``; a problem text when it is damaged."""
        for executable in product.windows.executables:
            host = self.host_path(f"{location}\\{executable}")
            if host is None or not os.path.isfile(host):
                continue
            from clientcheck.inspect.formats.pe import PeError, read_file_version

            try:
                raw = read_file_version(host, MAX_EXECUTABLE_BYTES)
            except (OSError, PeError) as error:
                return f"{location}\\{executable}: {error}"
            return Version.try_parse(raw) if raw else None
        return None
