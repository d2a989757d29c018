"""The running programs, for finding those still running an older version than the one installed.

One narrow seam, ``ProcessSource``, with three sources behind it, each in its own module so that a run
loads only its own:

- ``ProcProcesses`` (here): Linux, plain reads of ``/proc`` (no psutil: its import alone costs more than the
  whole Linux check, and this runs at every login);
- ``processes_psutil.PsutilProcesses``: macOS and Windows, through psutil, imported only when used;
- ``processes_recorded.RecordedProcesses``: what one of those saw, as data: tests run the macOS and Windows
  logic on Linux with it, and a support engineer's capture can be replayed.

Listing is cheap (a pid and a program path each); the costlier facts (whether the file was replaced, the
mapped files, the arguments) are asked for only for the few processes that belong to an installation.
Every method returns "don't know" (None or empty) rather than raising: processes end, and other users'
processes cannot be read without privileges, at any moment.
"""

from __future__ import annotations

import os

from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    SandboxInfo = dict[str, dict[str, str]]  # a flatpak instance's .flatpak-info, by group

_DELETED = " (deleted)"


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
