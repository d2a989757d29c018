"""Updates installed but not yet in effect: programs still running an older version than the one installed,
and an operating system that needs a restart. An update that has not taken effect is still owed.

Each OS inspector finds its own, over the root, registry and package databases it has already opened, and
returns them in its ``Inventory``: ``linux.restarts`` (``/proc``, snaps, flatpaks, ``/run/reboot-required``,
kernels), ``windows.restarts`` (psutil, ``RebootRequired``/``RebootPending``) and ``macos`` (psutil; macOS
has no pending system restart to read). Processes are looked at on the running machine only: with
``--root`` or a registry export they are not the captured machine's, and only its files and registry count.

This module is the part they share: an installation and the processes found to be its (``Target``),
matching processes to installations by folder (Windows and macOS, where psutil gives a program's path and
little else), the versions Chromium browsers name in their version folders and crash handlers' arguments,
and the verdict. Chrome and Chromium name their running version in their crash handler's arguments
(``--annotation=ver=156.0.8078.108``: seen on Debian's chromium; the same crashpad handler runs on Windows
and macOS); that is used where it is found.
"""

from __future__ import annotations

from clientcheck.model import PendingRestart
from clientcheck.version import Version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from clientcheck.inspect.processes import ProcessSource, Program
    from clientcheck.model import Installation

CHROMIUM_FAMILY = frozenset(("chrome", "chromium", "edge", "brave", "opera", "vivaldi"))
# Products whose crash handler names the version the user sees: Chrome's and Chromium's own crashpad
# handler (seen on Debian's chromium: --annotation=ver=156.0.8078.108). Edge, Brave, Opera and Vivaldi may
# put Chromium's number there rather than their own, so their annotation is not trusted.
ANNOTATED_VERSION = frozenset(("chrome", "chromium"))
VERSION_ANNOTATION = "--annotation=ver="


class Target:
    """One installation, and how to recognise its processes."""

    __slots__ = ("folders", "installation", "kind", "programs")

    def __init__(self, installation: Installation, kind: str, folders: tuple[str, ...]) -> None:
        self.installation = installation
        self.kind = kind  # "files" (Linux), "snap", "flatpak", "folder" (Windows, macOS)
        self.folders = folders  # the application's own folders (Windows: case-folded)
        self.programs: list[Program] = []


def inside(path: str, folders: tuple[str, ...], separator: str = "/") -> bool:
    return any(path.startswith(folder + separator) for folder in folders)


def annotated_version(target: Target, programs: Iterable[Program], source: ProcessSource) -> Version | None:
    """The oldest version Chrome's or Chromium's crash handlers say is running."""
    if target.installation.product not in ANNOTATED_VERSION:
        return None
    versions = []
    for program in programs:
        for argument in source.arguments(program):
            if argument.startswith(VERSION_ANNOTATION):
                version = Version.try_parse(argument[len(VERSION_ANNOTATION) :])
                if version is not None:
                    versions.append(version)
    return min(versions) if versions else None


def verdict(item: Installation, replaced: bool, running: Version | None, detail: str | None) -> PendingRestart | None:
    """The record for ``item`` when its processes run an older version than installed: its files were
    ``replaced`` under them, or they name an older ``running`` version."""
    installed = item.version
    if running is not None and installed is not None:
        if running > installed:
            return None  # a downgrade waiting for a restart: no update is owed
        replaced = replaced or running < installed
    if not replaced:
        return None
    if running is not None and installed is not None and running < installed:
        reason = f"running {running} since before the update to {installed}"
    elif installed is not None:
        reason = f"running since before the update to {installed}"
    else:
        reason = "running since before its files were replaced"
    if detail:
        reason += f" ({detail})"
    return PendingRestart(item.product, "program", item.path, installed, running, reason)


# Windows and macOS: an installation is a folder ------------------------------------------------------------


def folder_restarts(
    software: Iterable[Installation],
    source: ProcessSource,
    *,
    separator: str,
    key: Callable[[str], str],
    version_folder: Callable[[str], str | None],
) -> list[PendingRestart]:
    """One record per installation with a process still running an older version than installed, where an
    installation is its folder (an install folder, an app bundle) and a process is its when its program
    lies inside. ``key`` is a path as compared (Windows: case-folded); ``version_folder`` names the version
    folder in a path below an installation's folder ("131.0.6778.86"), or None."""
    targets = [Target(item, "folder", (key(item.path),)) for item in software if item.path]
    if not targets:
        return []
    ordered = sorted(targets, key=lambda target: -len(target.folders[0]))  # the deepest folder wins
    for program in source.programs():
        exe = key(program.exe)
        for target in ordered:
            if inside(exe, target.folders, separator):
                target.programs.append(program)
                break
    found: list[PendingRestart] = []
    for target in targets:
        if target.programs:
            record = _judge_folder(target, source, separator, key, version_folder)
            if record is not None:
                found.append(record)
    return found


def _judge_folder(
    target: Target,
    source: ProcessSource,
    separator: str,
    key: Callable[[str], str],
    version_folder: Callable[[str], str | None],
) -> PendingRestart | None:
    """The version folder in use, else a program file created after the process."""
    item = target.installation

    def running(path: str) -> Version | None:
        """The version a Chromium browser's path names."""
        path = key(path)
        folder = next((folder for folder in target.folders if path.startswith(folder + separator)), None)
        name = version_folder(path[len(folder) + 1 :]) if folder is not None else None
        return _version_of_folder(name, item.product) if name is not None else None

    programs = sorted(target.programs, key=lambda program: (program.started or 0.0, program.pid))
    versions: list[Version] = []
    if item.product in CHROMIUM_FAMILY:
        versions += [version for program in programs if (version := running(program.exe))]
        annotated = annotated_version(target, programs, source)
        if annotated is not None:
            versions.append(annotated)
        if not versions:
            # The costly look: the modules (Windows) or open files (macOS) of the oldest process.
            versions += [version for path in source.loaded(programs[0]) if (version := running(path))]
    replaced = any(source.replaced(program) for program in programs)
    return verdict(item, replaced, min(versions) if versions else None, None)


def _version_of_folder(name: str, product: str) -> Version | None:
    if name.count(".") < 2:
        return None  # "A", "Current", "Installer", "chrome.dll": not a version folder
    version = Version.try_parse(name)
    if version is not None and product == "brave" and len(version.release) == 4 and version.release[0] >= 100:
        # Brave's folders put Chromium's major first ("131.1.73.97"); its own version is 1.73.97.
        version = Version(".".join(str(part) for part in version.release[1:]))
    return version
