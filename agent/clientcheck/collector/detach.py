"""Starting the shipper from a check without waiting for it: ``clientcheck ship --scheduled`` in a process of
its own, with a fixed argument list and no shell, in a session of its own (a terminal closing, or the fleet
tool that ran the check ending its process group, does not stop it), with standard input, output and error
on the null device (a fleet tool that reads the check's output until it closes is not kept waiting).

On Linux and macOS through ``os.posix_spawn`` (``subprocess`` would cost a check more to import than the
spawn itself); on Windows as a detached process without a console window, outside the job of the program
that ran the check when that job allows it (Intune's agent ends its jobs' processes with the script).

Nothing else of the check's goes with it: no descriptor beyond the three (a pipe the fleet tool gave the
check, and left open across exec, would keep the tool waiting for the shipper's minutes), and no module
from the folder the check was started in (``python -m`` puts that folder first on ``sys.path``: a root or
SYSTEM check started in a folder others can write would run what they put there).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

SHIP_ARGUMENTS = ("ship", "--scheduled")


# Python before 3.11 has no -P: the same, by hand (with -c, sys.path[0] is the working folder).
_WITHOUT_WORKING_FOLDER = "import sys; del sys.path[0]; from clientcheck.cli import entry; entry()"


def shipper_command(
    *,
    executable: str | None = None,
    argv0: str | None = None,
    frozen: bool | None = None,
    exists: Callable[[str], bool] = os.path.isfile,
    safe_path: bool | None = None,
) -> list[str]:
    """The command that runs the shipper with the same clientcheck as this run: the program itself in a
    PyInstaller build; the script this run was started as (the Debian package's launcher, pip's console
    script) when it is one; else this Python with ``-m clientcheck``, told not to look for modules in the
    working folder: ``-P`` (``safe_path``: Python 3.11 and later), else ``-c`` with code that drops it from
    ``sys.path`` before the first import. Not ``-I``, which would also drop ``PYTHONPATH`` and the user's
    site-packages, where a user's own install may be."""
    executable = sys.executable if executable is None else executable
    argv0 = (sys.argv[0] if sys.argv else "") if argv0 is None else argv0
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    safe_path = sys.version_info >= (3, 11) if safe_path is None else safe_path
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
    if safe_path:
        return [executable, "-P", "-m", "clientcheck", *SHIP_ARGUMENTS]
    return [executable, "-c", _WITHOUT_WORKING_FOLDER, *SHIP_ARGUMENTS]


def start_shipper(env: Mapping[str, str], command: list[str] | None = None) -> int:
    """Start the shipper and return its process id, without waiting. ``OSError`` when it cannot start."""
    argv = command or shipper_command()
    environment = {str(name): str(value) for name, value in env.items()}
    state = environment.get("CLIENTCHECK_STATE_DIR", "").strip()
    if state:
        # The shipper may not start where the check did (Windows: the system folder): the same spool.
        environment["CLIENTCHECK_STATE_DIR"] = os.path.abspath(state)
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return _start_windows(argv, environment)
    _not_inherited()
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


def _not_inherited() -> None:
    """Mark every descriptor above the standard three close-on-exec. Python opens its own that way; one
    this process inherited open (the fleet tool's pipe, a descriptor its caller leaked) would otherwise
    pass to the shipper. The flag belongs to this process's descriptor, not to the open file: whoever
    started the check keeps its own as it was."""
    if sys.platform == "win32":  # pragma: no cover - Popen(close_fds=True) passes no handle there
        return
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            numbers = [int(name) for name in os.listdir(folder) if name.isdigit()]
        except OSError:
            continue
        break
    else:  # neither listed: every number the process may have open
        try:
            limit = os.sysconf("SC_OPEN_MAX")
        except (OSError, ValueError):
            limit = 1024
        numbers = list(range(3, min(limit if limit > 0 else 1024, 65536)))
    for number in numbers:
        if number < 3:
            continue
        try:
            if os.get_inheritable(number):
                os.set_inheritable(number, False)
        except OSError:
            pass  # EBADF: the listing's own descriptor, closed since


def _start_windows(argv: list[str], env: dict[str, str]) -> int:  # pragma: no cover - Windows only
    import subprocess

    # Not where the check was started: a folder that stays in use (and, for a folder others may write,
    # where Windows looks for DLLs).
    # os.environ's names are upper case on Windows, and so are those of the copy the check passes.
    working = env.get("SYSTEMROOT") or os.environ.get("SYSTEMROOT") or os.path.splitdrive(sys.executable)[0] + "\\"

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
                cwd=working,
                creationflags=flags | extra,
                close_fds=True,
            )
        except PermissionError:
            if extra:
                continue
            raise
        return process.pid
    raise OSError("cannot start the shipper")
