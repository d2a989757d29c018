"""The registry seam: Windows detection reads keys through ``Registry``, which is the live registry (through
``winreg``, imported only on Windows) or a regedit export (``--registry FILE.reg``). Tests use exports made
exactly as regedit writes them, so the same detection code runs against both.

Paths are full and case-insensitive, as regedit shows them: ``HKEY_LOCAL_MACHINE\\SOFTWARE\\Mozilla``.
The 32-bit view is reached through its real path (``SOFTWARE\\WOW6432Node\\…``), which is how an export
holds it and how the 64-bit view of the live registry shows it.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_EXPORT_BYTES = 1024 * 1024 * 1024
HIVES = ("HKEY_LOCAL_MACHINE", "HKEY_CURRENT_USER", "HKEY_USERS", "HKEY_CLASSES_ROOT", "HKEY_CURRENT_CONFIG")


class Registry:
    """A read-only registry."""

    def subkeys(self, path: str) -> list[str]:
        """Names of the key's subkeys; empty when the key does not exist."""
        raise NotImplementedError

    def values(self, path: str) -> dict[str, object] | None:
        """The key's values by name (``""`` for the default value); None when the key does not exist."""
        raise NotImplementedError

    def value(self, path: str, name: str) -> object | None:
        values = self.values(path)
        if values is None:
            return None
        if name in values:
            return values[name]
        lowered = name.lower()
        return next((value for key, value in values.items() if key.lower() == lowered), None)

    def string(self, path: str, name: str) -> str | None:
        value = self.value(path, name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    def integer(self, path: str, name: str) -> int | None:
        value = self.value(path, name)
        if isinstance(value, int):
            return value
        text = value.strip() if isinstance(value, str) else ""
        # At most 20 digits (a QWORD's): a string of thousands would make int() raise, and means nothing.
        if text and len(text) <= 20 and text.isascii() and text.isdigit():
            return int(text)
        return None

    def user_roots(self) -> list[tuple[str, str]]:
        """(label, key) of each user's hive that can be read: HKEY_CURRENT_USER, and the profiles loaded
        under HKEY_USERS (every logged-in user's, as an administrator or SYSTEM sees them)."""
        roots: list[tuple[str, str]] = []
        if self.subkeys("HKEY_CURRENT_USER\\Software"):
            roots.append(("current user", "HKEY_CURRENT_USER"))
        for sid in self.subkeys("HKEY_USERS"):
            # Real accounts: local and domain (S-1-5-21-…) and Entra ID (S-1-12-1-…); not the service
            # accounts, nor the *_Classes hives.
            if sid.upper().startswith(("S-1-5-21-", "S-1-12-1-")) and not sid.endswith("_Classes"):
                roots.append((sid, f"HKEY_USERS\\{sid}"))
        return roots


class _Key:
    """One key of an export: its name as first written, its values, and its subkeys by lower-cased name."""

    __slots__ = ("children", "name", "values")

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: dict[str, object] = {}
        self.children: dict[str, _Key] = {}


class ExportedRegistry(Registry):
    """A registry export, parsed by ``formats.regfile``.

    The keys are held as a tree, one node per key: every ancestor of a key exists and lists its child, as
    in the registry itself, and a key 40,000 levels deep costs 40,000 small nodes, not 40,000 copies of
    ever longer paths (which took memory in the square of the depth)."""

    def __init__(self, keys: dict[str, dict[str, tuple[int, object]]]) -> None:
        self._root = _Key("")
        for path, values in keys.items():
            node = self._root
            for name in path.split("\\"):
                lowered = name.lower()
                child = node.children.get(lowered)
                if child is None:
                    child = node.children[lowered] = _Key(name)
                node = child
            node.values.update((name, data) for name, (_, data) in values.items())

    def _find(self, path: str) -> _Key | None:
        node = self._root
        for name in path.lower().split("\\"):
            child = node.children.get(name)
            if child is None:
                return None
            node = child
        return node

    def subkeys(self, path: str) -> list[str]:
        node = self._find(path)
        return sorted(child.name for child in node.children.values()) if node is not None else []

    def values(self, path: str) -> dict[str, object] | None:
        node = self._find(path)
        return node.values if node is not None else None


class LiveRegistry(Registry):  # pragma: no cover - needs Windows; tested there, exports test the logic
    """The running machine's registry, in its 64-bit view."""

    def _open(self, path: str) -> Iterator[object]:
        if sys.platform != "win32":
            return
        import winreg

        hive_name, _, sub = path.partition("\\")
        hive = getattr(winreg, hive_name.upper(), None)
        if not isinstance(hive, int):
            return
        try:
            key = winreg.OpenKey(hive, sub, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY)
        except OSError:
            return
        with key:
            yield key

    def subkeys(self, path: str) -> list[str]:
        if sys.platform != "win32":
            return []
        import winreg

        names: list[str] = []
        for key in self._open(path):
            index = 0
            while True:
                try:
                    names.append(winreg.EnumKey(key, index))  # type: ignore[arg-type,unused-ignore]
                except OSError:
                    break
                index += 1
        return names

    def values(self, path: str) -> dict[str, object] | None:
        if sys.platform != "win32":
            return None
        import winreg

        for key in self._open(path):
            values: dict[str, object] = {}
            index = 0
            while True:
                try:
                    name, data, _kind = winreg.EnumValue(key, index)  # type: ignore[arg-type,unused-ignore]
                except OSError:
                    break
                values[name] = data
                index += 1
            return values
        return None


def open_registry(export: str | None) -> Registry:
    """The export at ``export``, else the running machine's registry. Raises ``InputError`` naming the file
    and line for an export that cannot be read."""
    if export is None:
        return LiveRegistry()
    from clientcheck.errors import InputError
    from clientcheck.inspect.formats.regfile import RegFileError, parse_reg
    from clientcheck.reading import FileProblem, read_file

    try:
        data = read_file(export, MAX_EXPORT_BYTES)  # a regular file: not /dev/zero, not a FIFO
    except FileProblem as problem:
        hint = None
        if problem.reason.startswith("larger than"):
            hint = "export only what clientcheck reads: reg export HKLM\\SOFTWARE and HKU"
        raise InputError(f"--registry {export}: {problem.reason}", hint=hint) from None
    try:
        return ExportedRegistry(parse_reg(data))
    except RegFileError as error:
        raise InputError(
            f"--registry {export}: {error}",
            hint="export with regedit (File > Export) or 'reg export', and pass the .reg file as is",
        ) from None
