"""Windows: updates installed but not yet in effect (see ``inspect.restarts`` for what is shared).

Programs, through psutil (imported only on a live run): a process whose program lies in the installation's
folder. The Chromium browsers keep each version in a folder named after it, so the running version is read
from the modules the process loaded (``Application\\131.0.6778.86\\chrome.dll``) and compared with the
installed one. Otherwise (Firefox, the PDF viewers) the only evidence is a program file created after the
process started: Windows locks a running program, so its updaters replace it at the next start and usually
nothing is pending at all.

The system: ``WindowsUpdate\\Auto Update\\RebootRequired`` and ``Component Based Servicing\\RebootPending``,
in the live registry or an export.
"""

from __future__ import annotations

from clientcheck.inspect.restarts import folder_restarts
from clientcheck.model import PendingRestart

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from clientcheck.inspect.processes import ProcessSource
    from clientcheck.inspect.registry import Registry
    from clientcheck.model import Installation

WINDOWS_UPDATE_REBOOT = (
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired"
)
SERVICING_REBOOT = (
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending"
)
# Not read, on purpose:
# - Session Manager's PendingFileRenameOperations (HKLM\SYSTEM): any program may ask for a file to be moved
#   or deleted at the next boot, and installers, drivers and security tools leave entries there for weeks
#   (fleet tools' own forums name it the usual cause of machines stuck "pending restart"). It says nothing
#   about an update being owed, and would flag a large part of every fleet.
# - HKLM\SOFTWARE\Microsoft\Updates\UpdateExeVolatile: written by the update.exe installers of Windows XP and
#   Server 2003 days; no update of a supported Windows sets it, and a stale value outlives every restart.


def pending_restarts(
    registry: Registry, software: Iterable[Installation], processes: ProcessSource | None
) -> tuple[PendingRestart, ...]:
    """What is owed a restart on the Windows machine ``registry`` describes: at most one ``system`` record,
    then one ``program`` record per installation of ``software`` still running an older version, in its
    order. ``processes`` are the running machine's programs; None for an export."""
    system = system_restart(registry)
    found = [system] if system is not None else []
    if processes is not None:
        found += program_restarts(software, processes)
    return tuple(found)


def system_restart(registry: Registry) -> PendingRestart | None:
    reasons: list[str] = []
    path: str | None = None
    updates = registry.values(WINDOWS_UPDATE_REBOOT)
    if updates is not None:
        # Its values name the updates waiting (update id = 1); the key itself is the signal.
        count = f" ({len(updates)} updates)" if len(updates) > 1 else ""
        reasons.append(f"Windows Update installed updates that take effect at the next restart{count}")
        path = WINDOWS_UPDATE_REBOOT
    if registry.values(SERVICING_REBOOT) is not None:
        reasons.append("Windows servicing has changes waiting for a restart")
        path = path or SERVICING_REBOOT
    if not reasons:
        return None
    return PendingRestart("windows", "system", path, None, None, "the system needs a restart: " + "; ".join(reasons))


def program_restarts(software: Iterable[Installation], processes: ProcessSource) -> list[PendingRestart]:
    """One record per installation with a process still running an older version than installed."""
    return folder_restarts(software, processes, separator="\\", key=windows_key, version_folder=_version_folder)


def windows_key(path: str) -> str:
    """A Windows path as compared: backslashes, no trailing one, case-folded (Windows ignores case)."""
    return path.replace("/", "\\").rstrip("\\").casefold()


def _version_folder(relative: str) -> str:
    """The folder beside the program that holds a Chromium browser's version: the first one of the path."""
    return relative.split("\\", 1)[0]
