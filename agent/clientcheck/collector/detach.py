"""Starting the shipper from a check without waiting for it: ``clientcheck ship --scheduled`` in a process of
its own, with a fixed argument list and no shell, in a session of its own (a terminal closing, or the fleet
tool that ran the check ending its process group, does not stop it), with standard input, output and error
on the null device (a fleet tool that reads the check's output until it closes is not kept waiting).

On Linux and macOS through ``os.posix_spawn`` (``subprocess`` would cost a check more to import than the
spawn itself); on Windows as a detached process without a console window, outside the job of the program
that ran the check when that job allows it (Intune's agent ends its jobs' processes with the script).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

SHIP_ARGUMENTS = ("ship", "--scheduled")


def shipper_command(
    *,
    executable: str | None = None,
    argv0: str | None = None,
    frozen: bool | None = None,
    exists: Callable[[str], bool] = os.path.isfile,
) -> list[str]:
    """The command that runs the shipper with the same clientcheck as this run: the program itself in a
    PyInstaller build; the script this run was started as (the Debian package's launcher, pip's console
    script) when it is one; else this Python with ``-m clientcheck``."""
    executable = sys.executable if executable is None else executable
    argv0 = (sys.argv[0] if sys.argv else "") if argv0 is None else argv0
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    if frozen:
        from clientcheck.autostart import frozen_command

        return [
            *frozen_command("windows" if sys.platform == "win32" else "linux", executable, exists=exists)[:1],
            *SHIP_ARGUMENTS,
        ]
    script = os.path.abspath(argv0) if argv0 else ""
    name = os.path.basename(script).lower()
    if sys.platform != "win32" and name == "clientcheck" and exists(script) and os.access(script, os.X_OK):
        return [script, *SHIP_ARGUMENTS]
    if sys.platform == "win32":  # pragma: no cover - Windows only
        windowless = os.path.join(os.path.dirname(executable), "pythonw.exe")
        if os.path.basename(executable).lower() == "python.exe" and exists(windowless):
            executable = windowless
    return [executable, "-m", "clientcheck", *SHIP_ARGUMENTS]


def start_shipper(env: Mapping[str, str], command: list[str] | None = None) -> int:
    """Start the shipper and return its process id, without waiting. ``OSError`` when it cannot start."""
    argv = command or shipper_command()
    environment = {str(name): str(value) for name, value in env.items()}
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return _start_windows(argv, environment)
    null = os.devnull
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, null, os.O_WRONLY, 0),
    ]
    try:
        return os.posix_spawn(argv[0], argv, environment, file_actions=actions, setsid=True)
    except NotImplementedError:  # a system without POSIX_SPAWN_SETSID: a process group of its own instead
        return os.posix_spawn(argv[0], argv, environment, file_actions=actions, setpgroup=0)


def _start_windows(argv: list[str], env: dict[str, str]) -> int:  # pragma: no cover - Windows only
    import subprocess

    detached = 0x00000008  # DETACHED_PROCESS: no console
    new_group = 0x00000200  # CREATE_NEW_PROCESS_GROUP: Ctrl+C in the console that ran the check stays there
    no_window = 0x08000000  # CREATE_NO_WINDOW
    breakaway = 0x01000000  # CREATE_BREAKAWAY_FROM_JOB
    flags = detached | new_group | no_window
    for extra in (breakaway, 0):  # a job that forbids breaking away refuses the flag: then without it
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                creationflags=flags | extra,
                close_fds=True,
            )
        except PermissionError:
            if extra:
                continue
            raise
        return process.pid
    raise OSError("cannot start the shipper")
