"""Running ``clientcheck login`` at every login: install, remove and check the entries that do it, for one
user or (``system=True``) for every user of the machine.

- Linux: an XDG autostart entry and/or systemd user units (``linux.py`` explains the methods);
- macOS: a LaunchAgent (``macos.py``);
- Windows: a scheduled task with a logon trigger, and the Start-menu shortcut toasts need (``windows.py``).

Every function takes the platform, the environment, the command to run, a staging ``root`` and a runner
for outside commands (systemctl, launchctl, schtasks) as arguments, so each OS's entries are written and
tested anywhere. The files come from the templates in the package's ``data/autostart`` (``templates.py``).

Nothing here runs at login: only ``clientcheck autostart …`` imports this package.
"""

from __future__ import annotations

import os
import sys

from clientcheck.autostart.entries import (
    AutostartError,
    Change,
    CommandResult,
    EntryStatus,
    NeedsAdminError,
    Options,
    run_command,
)
from clientcheck.errors import UsageError
from clientcheck.platforms import this_platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Protocol

    Runner = Callable[[Sequence[str]], CommandResult]

    class PlatformModule(Protocol):
        """What linux.py, macos.py and windows.py each provide."""

        def install(self, options: Options) -> list[Change]: ...
        def uninstall(self, options: Options) -> list[Change]: ...
        def status(self, options: Options) -> list[EntryStatus]: ...


__all__ = [
    "METHODS",
    "PLATFORMS",
    "AutostartError",
    "Change",
    "CommandResult",
    "EntryStatus",
    "NeedsAdminError",
    "default_command",
    "describe",
    "describe_status",
    "install",
    "is_installed",
    "refuse_untrusted_program",
    "run_command",
    "status",
    "uninstall",
]

PLATFORMS = ("linux", "macos", "windows")
METHODS = ("auto", "xdg", "systemd")  # how Linux runs it; the other platforms have one way ("auto")


def default_command(
    platform: str | None = None,
    executable: str | None = None,
    *,
    exists: Callable[[str], bool] = os.path.isfile,
) -> list[str]:
    """The command a login should run, with absolute paths (launchd and Task Scheduler search no PATH).

    The ``clientcheck`` script next to the interpreter when there is one, else ``python -m clientcheck``.
    On Windows ``pythonw.exe`` instead of ``python.exe`` (a console program would flash a window at every
    logon), and never the ``clientcheck.exe`` script, which is a console program too.
    """
    platform = platform or this_platform()
    frozen = executable is None and bool(getattr(sys, "frozen", False))
    executable = executable if executable is not None else sys.executable
    if frozen:
        return frozen_command(platform, executable, exists=exists)
    if not executable:
        raise AutostartError(
            "cannot tell which Python runs clientcheck (sys.executable is empty)",
            hint="give the command to run explicitly",
        )
    if platform == "windows":
        import ntpath

        folder, name = ntpath.split(executable)
        windowless = ntpath.join(folder, "pythonw.exe")
        if name.lower() == "python.exe" and exists(windowless):
            executable = windowless
        return [executable, "-m", "clientcheck", "login"]
    import posixpath

    script = posixpath.join(posixpath.dirname(executable), "clientcheck")
    if exists(script):
        return [script, "login"]
    return [executable, "-m", "clientcheck", "login"]


def refuse_untrusted_program(command: Sequence[str], modules: Sequence[str] = ()) -> None:
    """For the machine-level run, which runs as root: raise ``AutostartError`` unless the program it would
    run (``command[0]``), the interpreter running this, and ``modules`` (clientcheck's own folder) can be
    changed only by root: each file and every folder above it owned by root, not writable by every user
    or by a group other than root's. Otherwise whoever may change them runs code as root within the hour
    (a venv in someone's home, installed with ``sudo``). POSIX only: Windows keeps this in ACLs."""
    if os.name != "posix":
        return
    from clientcheck.reading import other_writers

    for path in (command[0], sys.executable, *modules):
        real = os.path.realpath(path)
        place = real
        while True:
            try:
                info = os.stat(place)
            except OSError:
                break
            problem = other_writers(info, 0, folder=place != real)
            if problem:
                where = "it" if place == real else place
                raise AutostartError(
                    f"the machine run would run {real} as root, but {where} is {problem}",
                    hint="install clientcheck where only root can change it (the Debian package, or a virtual "
                    "environment root made under /opt), and run autostart install --system from there",
                )
            parent = os.path.dirname(place)
            if parent == place:
                break
            place = parent


def frozen_command(platform: str, executable: str, *, exists: Callable[[str], bool] = os.path.isfile) -> list[str]:
    """The command in a PyInstaller build, where ``sys.executable`` is clientcheck itself (it takes no
    ``-m``): the windowless ``clientcheckw`` beside it when there is one, else the program."""
    import ntpath
    import posixpath

    path = ntpath if platform == "windows" else posixpath
    folder = path.dirname(executable)
    windowless = path.join(folder, "clientcheckw.exe" if platform == "windows" else "clientcheckw")
    return [windowless if exists(windowless) else executable, "login"]


def install(
    platform: str,
    *,
    system: bool = False,
    method: str = "auto",
    env: Mapping[str, str],
    command: Sequence[str] | None = None,
    root: str | None = None,
    runner: Runner | None = None,
    language: str | None = None,
) -> list[Change]:
    """Put the entries in place; entries already as they should be are left untouched ("unchanged").

    ``runner`` runs the outside commands (``run_command`` on the machine itself: ``systemctl --user``,
    ``launchctl``, ``schtasks``, ``reg``); without one, only files are written and the changes say what was
    not done. ``root`` writes into a staging tree instead of the machine (a package build): give it no
    runner, since the commands act on the machine running them. ``language`` names the "Check for updates
    now" entry where a menu takes one name (Windows' Start menu; a Linux menu entry holds every language).
    """
    options = _options(platform, system, method, env, command, root, runner, language)
    return _module(options.platform).install(options)


def uninstall(
    platform: str,
    *,
    system: bool = False,
    method: str = "auto",
    env: Mapping[str, str],
    command: Sequence[str] | None = None,
    root: str | None = None,
    runner: Runner | None = None,
    language: str | None = None,
) -> list[Change]:
    """Remove what install put in place (whichever Linux method it used), and nothing else: a file of the
    same name that clientcheck did not write is left alone ("kept"). For every user (``system``), the
    machine's collector state goes too: its host key, agent id and spooled reports (the machine no longer
    runs clientcheck by itself)."""
    options = _options(platform, system, method, env, command, root, runner, language)
    changes = _module(options.platform).uninstall(options)
    if system:
        changes.append(_forget_collector(options))
    return changes


KIND_COLLECTOR = "collector state (host key, agent id, spooled reports)"


def _forget_collector(options: Options) -> Change:
    from clientcheck import dirs
    from clientcheck.collector import FOLDER
    from clientcheck.collector.folder import Collector

    configured = options.env_value("CLIENTCHECK_STATE_DIR")
    if configured:
        folder = os.path.join(configured, FOLDER)
    else:
        separator = "\\" if options.platform == "windows" else "/"
        base = dirs.machine_state_dir(options.platform, options.env)
        folder = options.host_path(f"{base}{separator}{FOLDER}")
    if not os.path.isdir(folder):
        return Change(KIND_COLLECTOR, folder, "absent")
    try:
        removed = Collector(folder, "machine").forget(everything=True)
    except OSError as error:
        raise AutostartError(f"cannot remove {folder}: {error.strerror or error}") from None
    reports = sum(1 for name in removed if name.startswith("spool/"))
    key = "the host key and " if "enrollment.json" in removed else ""
    return Change(KIND_COLLECTOR, folder, "removed", f"{key}{reports} spooled report(s)")


def status(
    platform: str,
    *,
    system: bool = False,
    method: str = "auto",
    env: Mapping[str, str],
    command: Sequence[str] | None = None,
    root: str | None = None,
    runner: Runner | None = None,
    language: str | None = None,
) -> list[EntryStatus]:
    """Each entry: its path, and whether it is installed and the same as install would write now."""
    options = _options(platform, system, method, env, command, root, runner, language)
    return _module(options.platform).status(options)


def is_installed(statuses: Sequence[EntryStatus]) -> bool:
    """Whether everything install would write is in place and up to date, with nothing left over."""
    return all(item.state == "installed" and item.expected for item in statuses)


_ACTION_WORDS = {
    "installed": "installed",
    "updated": "updated",
    "unchanged": "already installed",
    "removed": "removed",
    "absent": "not installed",
    "kept": "left alone",
    "ran": "ran",
    "failed": "failed",
    "skipped": "not done",
}
_STATE_WORDS = {
    "installed": "installed, up to date",
    "differs": "installed, differs from what install would write",
    "missing": "not installed",
    "foreign": "present, not written by clientcheck",
    "unknown": "unknown",
}


def describe(changes: Sequence[Change]) -> str:
    """One line per change, for people: ``installed: <path> (XDG autostart entry)``."""
    lines = []
    for change in changes:
        line = f"{_ACTION_WORDS.get(change.action, change.action)}: {change.path} ({change.kind})"
        lines.append(f"{line}: {change.detail}" if change.detail else line)
    return "\n".join(lines) + "\n" if lines else ""


def describe_status(statuses: Sequence[EntryStatus]) -> str:
    """One line per entry, for people: ``<path> (LaunchAgent): installed, up to date``."""
    lines = []
    for item in statuses:
        state = _STATE_WORDS.get(item.state, item.state)
        if not item.expected:
            state += ", not part of this method: install or uninstall removes it"
        line = f"{item.path} ({item.kind}): {state}"
        lines.append(f"{line} ({item.detail})" if item.detail and item.expected else line)
    return "\n".join(lines) + "\n" if lines else ""


def _options(
    platform: str,
    system: bool,
    method: str,
    env: Mapping[str, str],
    command: Sequence[str] | None,
    root: str | None,
    runner: Runner | None,
    language: str | None = None,
) -> Options:
    if platform not in PLATFORMS:
        raise UsageError(f"unknown platform {platform!r}: choose one of {', '.join(PLATFORMS)}")
    if method not in METHODS:
        raise UsageError(f"unknown autostart method {method!r}: choose one of {', '.join(METHODS)}")
    if method != "auto" and platform != "linux":
        raise UsageError(f"the autostart method {method!r} is for Linux; {platform} has one way")
    argv = tuple(command) if command is not None else tuple(default_command(platform))
    _check_command(platform, argv)
    if root is not None and not os.path.isdir(root):
        raise UsageError(f"{root} is not a folder", hint="--root names the staging tree to write into")
    return Options(
        platform,
        system=system,
        method=method,
        env=env,
        command=argv,
        root=os.path.abspath(root) if root is not None else None,
        runner=runner,
        language=language,
    )


def _check_command(platform: str, argv: tuple[str, ...]) -> None:
    if not argv or not all(isinstance(argument, str) for argument in argv):
        raise UsageError("the command to run at login is empty")
    if any("\0" in argument for argument in argv):
        raise UsageError("the command to run at login contains a NUL character")
    program = argv[0]
    if platform == "windows":
        absolute = len(program) > 3 and program[1:3] == ":\\" and program[0].isalpha()
    else:
        absolute = program.startswith("/")
    if not absolute:
        raise UsageError(
            f"{program!r} is not an absolute path",
            hint="the login runs with a minimal environment and no PATH search: give the program's full path",
        )


def _module(platform: str) -> PlatformModule:
    if platform == "windows":
        from clientcheck.autostart import windows

        return windows
    if platform == "macos":
        from clientcheck.autostart import macos

        return macos
    from clientcheck.autostart import linux

    return linux
