"""What install writes, as values, and the few file operations every OS shares: write what differs, remove
only what is ours, compare what is there with what would be written.

An ``Entry`` is one file or symbolic link at its place on this host (a staging root already applied). Every
file install writes carries a marker (``Entry.marker``); uninstall removes a file only when the marker is in
it, so a file of the same name that someone else wrote is left alone.
"""

from __future__ import annotations

import os
import sys

from clientcheck.errors import ClientcheckError, ExitStatus
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Literal

    Action = Literal["installed", "updated", "unchanged", "removed", "absent", "kept", "ran", "failed", "skipped"]
    State = Literal["installed", "differs", "missing", "foreign", "unknown"]

MARKER = 'Written by "clientcheck autostart install"'
FILE_MODE = 0o644  # read by every user's session (system entries) and by launchd, which refuses writable plists
FOLDER_MODE = 0o755
_READ_LIMIT = 1024 * 1024  # our files are a few kilobytes; a huge file at our path is not ours


class AutostartError(ClientcheckError):
    """An autostart entry that cannot be written or removed."""

    exit_status = ExitStatus.OUTPUT


class NeedsAdminError(AutostartError):
    """``--system`` without the rights to write where every user's session looks."""


class CommandResult(Record):
    """How a command the installer ran ended: its exit status and its output (stdout and stderr)."""

    __slots__ = ("status", "output")

    status: int
    output: str

    def __init__(self, status: int, output: str = "") -> None:
        self._set(locals())


class Entry(Record):
    """One file (``content``) or symbolic link (``link``) that install puts on the machine."""

    __slots__ = ("kind", "path", "content", "link", "marker")

    kind: str  # for people: "XDG autostart entry", "systemd user timer", …
    path: str  # where it is on this host
    content: bytes | None  # a file's bytes
    link: str | None  # a symbolic link's target, as written in the link
    marker: bytes  # in every file install writes: how uninstall tells ours from a stranger's

    def __init__(
        self,
        kind: str,
        path: str,
        *,
        content: bytes | None = None,
        link: str | None = None,
        marker: bytes = MARKER.encode("utf-8"),
    ) -> None:
        self._set(locals())


class Change(Record):
    """One thing install or uninstall did (or found already done)."""

    __slots__ = ("kind", "path", "action", "detail")

    kind: str
    path: str  # a file, a link, a scheduled task's name, or the command that was run
    action: Action
    detail: str | None

    def __init__(self, kind: str, path: str, action: Action, detail: str | None = None) -> None:
        self._set(locals())


class EntryStatus(Record):
    """Whether one entry is in place and the same as what install would write now."""

    __slots__ = ("kind", "path", "state", "expected", "detail")

    kind: str
    path: str
    state: State  # installed (and up to date), differs, missing, foreign (not written by us), unknown
    expected: bool  # False: left over from another method (install would remove it)
    detail: str | None

    def __init__(self, kind: str, path: str, state: State, *, expected: bool = True, detail: str | None = None) -> None:
        self._set(locals())


class Options(Record):
    """Everything an OS module needs, checked once by the package's public functions."""

    __slots__ = ("platform", "system", "method", "env", "command", "root", "runner", "language")

    platform: str
    system: bool
    method: str
    env: Mapping[str, str]
    command: tuple[str, ...]
    root: str | None  # a staging tree standing for the machine's "/" (or Windows' system drive)
    runner: Callable[[Sequence[str]], CommandResult] | None
    language: str | None  # of the words people see in a menu that cannot hold every language (Windows)

    def __init__(
        self,
        platform: str,
        *,
        system: bool,
        method: str,
        env: Mapping[str, str],
        command: tuple[str, ...],
        root: str | None,
        runner: Callable[[Sequence[str]], CommandResult] | None,
        language: str | None = None,
    ) -> None:
        self._set(locals())

    def host_path(self, path: str) -> str:
        """Where the machine's absolute ``path`` is on this host: itself, or inside the staging root.

        A Windows path keeps its folders and loses its drive (the root stands for the system drive), as
        ``--root`` does for the Windows inspector.
        """
        if self.root is None:
            return path
        if self.platform == "windows":
            rest = path.split(":", 1)[1] if path[1:2] == ":" else path
            return os.path.join(self.root, *[part for part in rest.split("\\") if part])
        return os.path.join(self.root, path.lstrip("/"))

    def env_value(self, name: str) -> str | None:
        """An environment variable, found case-insensitively on Windows (as Windows itself does)."""
        value = self.env.get(name)
        if value is None and self.platform == "windows":
            lowered = name.lower()
            value = next((item for key, item in self.env.items() if key.lower() == lowered), None)
        return value.strip() if value and value.strip() else None


MACHINE_ARGUMENTS = ("ship", "--check", "--scheduled")


def machine_command(command: Sequence[str]) -> tuple[str, ...]:
    """The machine timers' command, from the login entries' one: the same program (what comes before the
    ``login`` argument: the script, or Python and ``-m clientcheck``) running ``ship --check --scheduled``
    (judge the machine, spool, ship) instead; login's own options are not the machine run's."""
    if "login" not in command[1:]:
        raise AutostartError(
            f"cannot tell the machine run's command from {' '.join(command)!r}: it has no 'login' argument",
            hint="give the command that runs 'clientcheck login'; the machine run is the same program with 'ship'",
        )
    return (*command[: list(command).index("login", 1)], *MACHINE_ARGUMENTS)


def read_existing(path: str) -> bytes | str | None:
    """What is at ``path`` now: a file's bytes, a symbolic link's target (str), or None for nothing."""
    from clientcheck.reading import FileProblem, read_file

    try:
        if os.path.islink(path):
            return os.readlink(path)
        return read_file(path, _READ_LIMIT)
    except FileNotFoundError:
        return None
    except FileProblem as problem:
        if problem.missing:
            return None
        if problem.reason.startswith("cannot read: "):
            raise AutostartError(f"cannot read {path}: {problem.reason.removeprefix('cannot read: ')}") from None
        # A folder, a FIFO, a device or a huge file where our file belongs: not ours (never removed or
        # replaced), and never opened in a way that could block or read without end.
        return b""
    except OSError as error:
        raise AutostartError(f"cannot read {path}: {error.strerror or error}") from None


def is_ours(entry: Entry, existing: bytes | str | None) -> bool:
    if existing is None:
        return False
    if entry.link is not None:
        return existing == entry.link
    return isinstance(existing, bytes) and len(existing) <= _READ_LIMIT and entry.marker in existing


def wanted_bytes(entry: Entry) -> bytes | str:
    if entry.link is not None:
        return entry.link
    assert entry.content is not None  # noqa: S101 - an Entry is either a file or a link
    return entry.content


def refuse_strangers(entries: Iterable[Entry]) -> None:
    """Stop before writing anything when a file or link we would replace is not ours (a package's own
    autostart file, one the user wrote): install never overwrites what uninstall would not remove."""
    for entry in entries:
        existing = read_existing(entry.path)
        if existing is not None and not is_ours(entry, existing):
            raise AutostartError(
                f"{entry.path} is already there and was not written by clientcheck: not replaced",
                hint="move it away if clientcheck's should take its place, then install again",
            )


def prepare_folders(folders: Iterable[str], *, system: bool, platform: str) -> None:
    """Create the folders install writes into and make sure we may write there, before anything is written:
    an install without the rights fails whole, not half done."""
    for folder in dict.fromkeys(folders):
        try:
            os.makedirs(folder, mode=FOLDER_MODE, exist_ok=True)
            probe = os.path.join(folder, f".clientcheck-probe-{os.urandom(4).hex()}")
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            os.unlink(probe)
        except PermissionError:
            raise permission_error(folder, system=system, platform=platform) from None
        except OSError as error:
            raise AutostartError(f"cannot write in {folder}: {error.strerror or error}") from None


def permission_error(path: str, *, system: bool, platform: str) -> AutostartError:
    if not system:
        return AutostartError(f"cannot write in {path}: permission denied")
    return NeedsAdminError(f"cannot write in {path}: permission denied", hint=admin_hint(platform))


def admin_hint(platform: str) -> str:
    if platform == "windows":
        return "installing for all users needs an administrator: run it from an elevated prompt (Run as administrator)"
    return "installing for all users needs root: run it with sudo"


def write_entry(entry: Entry) -> Change:
    """Put ``entry`` in place (atomically) unless it already is, byte for byte."""
    from clientcheck.deliver import write_atomic

    existing = read_existing(entry.path)
    wanted = wanted_bytes(entry)
    if existing == wanted:
        return Change(entry.kind, entry.path, "unchanged")
    if entry.link is not None:
        temp = os.path.join(os.path.dirname(entry.path), f".{os.path.basename(entry.path)}.{os.urandom(6).hex()}")
        try:
            os.symlink(entry.link, temp)
            os.replace(temp, entry.path)
        except OSError as error:
            try:
                os.unlink(temp)
            except OSError:
                pass  # it was never made
            raise AutostartError(f"cannot write {entry.path}: {error.strerror or error}") from None
    else:
        assert entry.content is not None  # noqa: S101 - an Entry is either a file or a link
        write_atomic(entry.path, entry.content, mode=FILE_MODE)
    return Change(entry.kind, entry.path, "installed" if existing is None else "updated")


def remove_entry(entry: Entry, *, system: bool, platform: str, prune_to: str | None = None) -> Change:
    """Remove ``entry`` if what is there is ours; leave anything else alone.

    With ``prune_to``, the folders the removal leaves empty go too, up to that folder (kept): those install
    had to create. Nothing is pruned when nothing of ours was removed, so an empty folder that was there
    before (a package's) stays.
    """
    existing = read_existing(entry.path)
    if existing is None:
        return Change(entry.kind, entry.path, "absent")
    if not is_ours(entry, existing):
        return Change(entry.kind, entry.path, "kept", "not written by clientcheck, left alone")
    try:
        os.unlink(entry.path)
    except FileNotFoundError:
        return Change(entry.kind, entry.path, "absent")
    except PermissionError:
        raise permission_error(os.path.dirname(entry.path), system=system, platform=platform) from None
    except OSError as error:
        raise AutostartError(f"cannot remove {entry.path}: {error.strerror or error}") from None
    if prune_to is not None:
        remove_empty_folders(os.path.dirname(entry.path), prune_to)
    return Change(entry.kind, entry.path, "removed")


def entry_status(entry: Entry, *, expected: bool = True) -> EntryStatus | None:
    """The entry's state; None for an entry that is not expected and not there (nothing to report)."""
    existing = read_existing(entry.path)
    if existing is None:
        return EntryStatus(entry.kind, entry.path, "missing") if expected else None
    if not is_ours(entry, existing):
        return EntryStatus(entry.kind, entry.path, "foreign", expected=expected, detail="not written by clientcheck")
    if not expected:
        return EntryStatus(entry.kind, entry.path, "installed", expected=False, detail="left from another method")
    if existing == wanted_bytes(entry):
        return EntryStatus(entry.kind, entry.path, "installed")
    return EntryStatus(entry.kind, entry.path, "differs", detail="not what install would write now")


def remove_empty_folders(folder: str, boundary: str) -> None:
    """Remove ``folder`` and then its parents while they are empty, up to ``boundary`` (kept)."""
    folder = os.path.normpath(folder)
    boundary = os.path.normpath(boundary)
    while folder != boundary and folder.startswith(boundary + os.sep):
        try:
            os.rmdir(folder)
        except OSError:
            return  # not empty (or not ours to remove): its parents are not empty either
        folder = os.path.dirname(folder)


def run(options: Options, kind: str, argv: Sequence[str], *, quiet_failure: bool = False) -> Change | None:
    """Run a command through the injected runner; a failure is reported, not raised (the files are what
    matter; a service manager that is not reachable picks them up at the next login)."""
    if options.runner is None:
        return None
    result = options.runner(argv)
    shown = " ".join(argv)
    if result.status == 0:
        return Change(kind, shown, "ran")
    if quiet_failure:
        return None
    return Change(kind, shown, "failed", first_line(result.output) or f"exit status {result.status}")


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def run_command(argv: Sequence[str]) -> CommandResult:
    """The live runner: run ``argv`` (a list, never a shell string) and collect its output.

    On Windows the child gets no console window, so nothing flashes when the agent runs windowless.
    """
    import subprocess

    flags = 0
    if sys.platform == "win32":
        flags = subprocess.CREATE_NO_WINDOW
    try:
        completed = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=120,
            creationflags=flags,
            check=False,
        )
    except FileNotFoundError:
        return CommandResult(127, f"{argv[0]}: not found")
    except subprocess.TimeoutExpired:
        return CommandResult(124, f"{argv[0]}: no answer after 120 seconds")
    except OSError as error:
        return CommandResult(126, f"{argv[0]}: {error.strerror or error}")
    # schtasks writes in the console's OEM code page; everything else here writes UTF-8.
    encoding = "oem" if sys.platform == "win32" else "utf-8"
    return CommandResult(completed.returncode, completed.stdout.decode(encoding, errors="replace"))
