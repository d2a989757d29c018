"""Inspection: turn a machine (the running one, or a ``--root`` tree) into an ``Inventory``.

This package is the only place that knows about operating systems, and ``inspect_machine`` is the only
place that chooses between them. One module or package per OS, each importable on every OS (``winreg`` and
psutil are imported only where used): ``linux/`` and ``windows/`` (a module per job: the OS itself, where
software is found, its versions, updates waiting for a restart) and ``macos``. Each inspector reads its
machine once, over one ``fsroot.Root`` (or registry) and the package readers it opened, and returns the
whole inventory, restarts included.

Beside them, what they read through: ``fsroot`` (a machine's files below a root), ``registry`` (the live
registry or a regedit export), ``packages`` and ``rpmdb`` (dpkg, rpm, pacman), ``processes*`` (running
programs: ``/proc``, psutil, or recorded), ``formats/`` (pure parsers), and ``restarts``, the OS-neutral
part of the pending-restart check.
"""

from __future__ import annotations

import os

from clientcheck.errors import InputError, UsageError, said
from clientcheck.model import PLATFORMS
from clientcheck.platforms import running_platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck.model import Inventory, Platform


# What tells each OS's file tree apart: files only that OS has (a Windows path is found without regard to
# case). A tree with the marks of none, or of more than one, is not guessed at.
PLATFORM_MARKS: dict[Platform, tuple[str, ...]] = {
    "linux": (
        "/etc/os-release",
        "/usr/lib/os-release",
        "/etc/debian_version",
        "/etc/redhat-release",
        "/etc/arch-release",
        "/etc/alpine-release",
        "/etc/gentoo-release",
        "/var/lib/dpkg/status",
        "/var/lib/rpm",
        "/usr/lib/sysimage/rpm",
        "/var/lib/pacman/local",
    ),
    "macos": (
        "/System/Library/CoreServices/SystemVersion.plist",
        "/System/Library/CoreServices/.SystemVersionPlatform.plist",
    ),
    "windows": ("/Windows/System32/config/SOFTWARE", "/Windows/System32/ntoskrnl.exe", "/Windows/System32"),
}


def detect_platform(root: str) -> Platform:
    """The OS whose file tree is at ``root``, from the files in it; ``UsageError`` when it cannot be told."""
    from clientcheck.inspect.fsroot import Root

    found: dict[Platform, str] = {}
    for platform, marks in PLATFORM_MARKS.items():
        tree = Root(root, fold_case=platform == "windows")
        mark = next((mark for mark in marks if tree.exists(mark)), None)
        if mark is not None:
            found[platform] = mark.lstrip("/")
    if len(found) == 1:
        return next(iter(found))
    choices = "|".join(PLATFORMS)
    if found:
        seen = "; ".join(f"{platform} ({mark})" for platform, mark in found.items())
        raise UsageError(
            f"--root {root}: the tree has marks of more than one OS: {seen}", hint=f"add --platform {choices}"
        )
    raise UsageError(
        f"--root {root}: cannot tell which OS this tree is (no etc/os-release, "
        "System/Library/CoreServices/SystemVersion.plist or Windows/System32 in it)",
        hint=f"add --platform {choices}",
    )


def inspect_machine(
    platform: str | None = None,
    root: str | None = None,
    env: Mapping[str, str] | None = None,
    registry: str | None = None,
) -> Inventory:
    """Inspect the running machine, or the tree at ``root`` as a machine of ``platform`` (told from the
    tree's files when None). The OS is chosen here, once, and so is whether the machine is the running one
    (whose environment, kernel and processes count) or captured; its inspector returns the whole
    inventory, updates waiting for a restart included."""
    if platform is None and registry is not None:
        platform = "windows"  # a registry export is a Windows machine's
    if platform is None and root is not None and os.path.abspath(root) != "/":
        if not os.path.isdir(root):
            raise InputError(said("--root {root}: not a directory", root=root))
        platform = detect_platform(root)
    chosen = platform or running_platform()
    if chosen not in PLATFORMS:
        raise UsageError(f"unknown platform {chosen!r}", hint=f"choose one of {', '.join(PLATFORMS)}")
    if registry is not None and chosen != "windows":
        raise UsageError("--registry is a Windows registry export: use it with --platform windows")
    environment = os.environ if env is None else env
    if chosen == "windows":
        return _inspect_windows(root, registry, environment)
    base = os.path.abspath(root) if root is not None else "/"
    live = base == "/" and chosen == running_platform()
    if not os.path.isdir(base):
        raise InputError(said("--root {root}: not a directory", root=root))
    if chosen == "linux":
        from clientcheck.inspect.linux import inspect_linux

        return inspect_linux(base, environment if live else {}, live=live)
    if chosen == "macos":
        from clientcheck.inspect.macos import inspect_macos

        return inspect_macos(base, environment if live else {}, live=live)
    raise UsageError(f"unknown platform {chosen!r}")  # unreachable: checked above


def _inspect_windows(root: str | None, registry: str | None, env: Mapping[str, str]) -> Inventory:
    from clientcheck.inspect.windows import inspect_windows

    live = root is None and registry is None
    if not live and registry is None:
        raise UsageError(
            "a Windows --root tree needs its registry: add --registry FILE.reg",
            hint="export it on the machine with: reg export HKLM\\SOFTWARE software.reg",
        )
    if live and running_platform() != "windows":
        raise UsageError("--platform windows needs --registry FILE.reg (and optionally --root DIR) off Windows")
    if root is not None and not os.path.isdir(root):
        raise InputError(said("--root {root}: not a directory", root=root))
    from clientcheck.inspect.registry import open_registry

    return inspect_windows(os.path.abspath(root) if root else None, open_registry(registry), env, live=live)
