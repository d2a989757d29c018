"""The running programs, for finding those still running an older version than the one installed.

One narrow seam, ``ProcessSource``, with three sources behind it:

- ``ProcProcesses``: Linux, plain reads of ``/proc`` (no psutil: its import alone costs more than the whole
  Linux check, and this runs at every login);
- ``PsutilProcesses``: macOS and Windows, through psutil, imported only when used;
- ``RecordedProcesses``: what one of those saw, as data: tests run the macOS and Windows logic on Linux with
  it, and a support engineer's capture can be replayed.

Listing is cheap (a pid and a program path each); the costlier facts (whether the file was replaced, the
mapped files, the arguments) are asked for only for the few processes that belong to an installation.
Every method returns "don't know" (None or empty) rather than raising: processes end, and other users'
processes cannot be read without privileges, at any moment.
"""

from __future__ import annotations

import os
import sys

from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from typing import Any

    SandboxInfo = dict[str, dict[str, str]]  # a flatpak instance's .flatpak-info, by group

_DELETED = " (deleted)"
# Seconds of slack between a process's start and its program file's creation: both clocks are coarse, and a
# program installed and started in the same second has not been replaced.
_CLOCK_SLACK = 2.0


class Program(Record):
    """One running process, as listed."""

    __slots__ = ("pid", "exe", "deleted", "started")

    pid: int
    exe: str  # the program's path as the OS gives it (Linux: without the " (deleted)" marker)
    deleted: bool  # the OS says the program's file is gone from its path (Linux " (deleted)")
    started: float | None  # seconds since the epoch, where the source knows it

    def __init__(self, pid: int, exe: str, deleted: bool = False, started: float | None = None) -> None:
        # Set one by one rather than with _set(locals()): one is made per process at every login, and this
        # is four times faster.
        set_field = object.__setattr__
        set_field(self, "pid", pid)
        set_field(self, "exe", exe)
        set_field(self, "deleted", deleted)
        set_field(self, "started", started)


class ProcessSource:
    """The running processes, and what can be learnt about one of them."""

    def programs(self) -> Iterable[Program]:
        raise NotImplementedError

    def replaced(self, program: Program) -> bool | None:
        """Whether the file now at ``program.exe`` is no longer the one the process runs. None when that
        cannot be told, or the process sees another file system there (a container): then it is not this
        machine's installation."""
        return None

    def loaded(self, program: Program) -> tuple[str, ...]:
        """Files the process has loaded or holds open (Linux: mapped, with " (deleted)" kept; Windows: its
        modules; macOS: its open files)."""
        return ()

    def arguments(self, program: Program) -> tuple[str, ...]:
        return ()

    def sandbox(self, program: Program) -> SandboxInfo | None:
        """The flatpak instance information of a sandboxed process (Linux), by group; None outside one."""
        return None


def _identity(info: os.stat_result | None) -> tuple[int, int] | None:
    return (info.st_dev, info.st_ino) if info is not None else None


class ProcProcesses(ProcessSource):
    """Linux ``/proc``. Only the user's own processes can be read without root; the rest are skipped."""

    def __init__(self, proc: str = "/proc") -> None:
        self.proc = proc

    def programs(self) -> Iterator[Program]:
        try:
            names = os.listdir(self.proc)
        except OSError:
            return
        for name in names:
            if not name.isdigit():
                continue
            try:
                target = os.readlink(f"{self.proc}/{name}/exe")
            except OSError:
                continue  # a kernel thread (no program), another user's process, or one that just ended
            deleted = target.endswith(_DELETED)
            yield Program(int(name), target[: -len(_DELETED)] if deleted else target, deleted)

    def _stat(self, path: str) -> tuple[bool, os.stat_result | None]:
        """(readable, the file's status or None when it does not exist)."""
        try:
            return True, os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return True, None
        except (OSError, ValueError):  # no permission, the process ended; ValueError: a NUL in the path
            return False, None

    def replaced(self, program: Program) -> bool | None:
        base = f"{self.proc}/{program.pid}"
        readable, running = self._stat(f"{base}/exe")  # the file the process runs, even when deleted
        if not readable or running is None:
            return None
        # The file at that path as the process sees its file system (its root and mounts), and as we do. A
        # process in a container, or a sandboxed renderer chrooted into an empty folder, sees another file or
        # none: it is not running this machine's installation, and is left alone.
        readable, seen = self._stat(f"{base}/root{program.exe}")
        if not readable:
            return None
        ours = self._stat(program.exe)[1]
        if _identity(seen) != _identity(ours):
            return None
        if seen is None:
            return program.deleted or None  # the program's path is gone altogether
        return _identity(running) != _identity(seen)

    def loaded(self, program: Program) -> tuple[str, ...]:
        try:
            with open(f"{self.proc}/{program.pid}/maps", "rb") as stream:
                data = stream.read()
        except OSError:
            return ()
        paths: dict[str, None] = {}
        for line in data.split(b"\n"):
            # "7f3c…-7f3c… r-xp 00000000 fe:01 1835016    /usr/lib/firefox-esr/libxul.so (deleted)": the path
            # is the sixth field, and may itself hold spaces.
            fields = line.split(None, 5)
            if len(fields) == 6 and fields[5].startswith(b"/"):
                paths[os.fsdecode(fields[5])] = None
        return tuple(paths)

    def arguments(self, program: Program) -> tuple[str, ...]:
        try:
            with open(f"{self.proc}/{program.pid}/cmdline", "rb") as stream:
                data = stream.read(256 * 1024)
        except OSError:
            return ()
        return tuple(os.fsdecode(part) for part in data.split(b"\0") if part)

    def sandbox(self, program: Program) -> SandboxInfo | None:
        try:
            with open(f"{self.proc}/{program.pid}/root/.flatpak-info", "rb") as stream:
                data = stream.read(64 * 1024)
        except (OSError, ValueError):
            return None
        from clientcheck.inspect.formats.keyfile import parse_keyfile

        return parse_keyfile(data.decode("utf-8", errors="replace"))


class PsutilProcesses(ProcessSource):  # pragma: no cover - macOS and Windows; RecordedProcesses tests the logic
    """macOS and Windows, through psutil (imported on first use)."""

    def __init__(self) -> None:
        import psutil

        self._psutil: Any = psutil

    def programs(self) -> Iterator[Program]:
        psutil = self._psutil
        try:
            # With attrs, a value psutil may not read (another user's process) comes back as None.
            for process in psutil.process_iter(["exe", "create_time"]):
                info = getattr(process, "info", None) or {}
                exe, started = info.get("exe"), info.get("create_time")
                if isinstance(exe, str) and exe:
                    yield Program(int(process.pid), exe, False, float(started) if started else None)
        except (psutil.Error, OSError):
            return

    def _process(self, program: Program) -> Any:
        try:
            return self._psutil.Process(program.pid)
        except (self._psutil.Error, OSError):
            return None

    def replaced(self, program: Program) -> bool | None:
        # psutil cannot tell which file a process runs, only its path. A program file created after the
        # process started was put there by an update while it ran (Chrome's and Keystone's, an MDM
        # reinstalling an app bundle, an installer renaming an in-use .exe aside). Creation time, not the
        # change time: on macOS an extended attribute written to the file changes its ctime.
        if program.started is None:
            return None
        try:
            info = os.stat(program.exe)
        except FileNotFoundError:
            return True
        except (OSError, ValueError):
            return None
        created = getattr(info, "st_birthtime", None)
        if created is None and sys.platform == "win32":
            created = info.st_ctime  # the creation time on Windows before Python 3.12 added st_birthtime
        if not isinstance(created, (int, float)):
            return None
        return created > program.started + _CLOCK_SLACK

    def loaded(self, program: Program) -> tuple[str, ...]:
        process = self._process(program)
        if process is None:
            return ()
        try:
            if sys.platform == "win32":
                return tuple(str(region.path) for region in process.memory_maps(grouped=True) if region.path)
            # psutil has no memory maps on macOS (dropped in 5.6): the open files show the version folder too.
            return tuple(str(item.path) for item in process.open_files())
        except (self._psutil.Error, OSError):
            return ()

    def arguments(self, program: Program) -> tuple[str, ...]:
        process = self._process(program)
        if process is None:
            return ()
        try:
            return tuple(str(argument) for argument in process.cmdline())
        except (self._psutil.Error, OSError):
            return ()


class RecordedProcesses(ProcessSource):
    """Processes as data: a list of records with ``pid``, ``exe`` and optionally ``deleted``, ``started``,
    ``replaced``, ``loaded``, ``arguments`` and ``sandbox`` (see ``ProcessSource`` for their meaning)."""

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        self._records: dict[int, Mapping[str, Any]] = {}
        self._programs: list[Program] = []
        for record in records:
            pid, exe = record.get("pid"), record.get("exe")
            if not isinstance(pid, int) or not isinstance(exe, str) or pid in self._records:
                continue
            started = record.get("started")
            self._records[pid] = record
            self._programs.append(
                Program(
                    pid,
                    exe,
                    record.get("deleted") is True,
                    float(started) if isinstance(started, (int, float)) else None,
                )
            )

    @classmethod
    def from_json(cls, text: str) -> RecordedProcesses:
        """From a JSON document ``{"processes": [records]}``; anything else gives no processes."""
        import json

        try:
            document = json.loads(text)
        except ValueError:
            return cls(())
        records = document.get("processes") if isinstance(document, dict) else None
        return cls(item for item in records if isinstance(item, dict)) if isinstance(records, list) else cls(())

    def programs(self) -> list[Program]:
        return list(self._programs)

    def _strings(self, program: Program, key: str) -> tuple[str, ...]:
        values = self._records.get(program.pid, {}).get(key)
        return tuple(value for value in values if isinstance(value, str)) if isinstance(values, list) else ()

    def replaced(self, program: Program) -> bool | None:
        value = self._records.get(program.pid, {}).get("replaced")
        return value if isinstance(value, bool) else None

    def loaded(self, program: Program) -> tuple[str, ...]:
        return self._strings(program, "loaded")

    def arguments(self, program: Program) -> tuple[str, ...]:
        return self._strings(program, "arguments")

    def sandbox(self, program: Program) -> SandboxInfo | None:
        value = self._records.get(program.pid, {}).get("sandbox")
        if not isinstance(value, dict):
            return None
        return {
            str(group): {str(key): str(item) for key, item in keys.items() if isinstance(item, str)}
            for group, keys in value.items()
            if isinstance(keys, dict)
        }
