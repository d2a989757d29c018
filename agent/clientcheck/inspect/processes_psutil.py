"""The running processes on macOS and Windows, through psutil (see ``processes`` for the seam)."""

from __future__ import annotations

import os
import sys

from clientcheck.inspect.processes import ProcessSource, Program

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

# Seconds of slack between a process's start and its program file's creation: both clocks are coarse, and a
# program installed and started in the same second has not been replaced.
_CLOCK_SLACK = 2.0


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


def running_processes() -> ProcessSource | None:
    """This machine's processes through psutil; None where psutil is not installed (the check that needs it
    is skipped, not the run)."""
    try:
        return PsutilProcesses()
    except ImportError:
        return None
