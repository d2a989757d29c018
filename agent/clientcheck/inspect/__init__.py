"""Inspection: turn a machine (the running one, or a ``--root`` tree) into an ``Inventory``.

This package is the only place that knows about operating systems; ``inspect_machine`` is the only place
that chooses between them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

from clientcheck.errors import InputError, UsageError
from clientcheck.model import PLATFORMS, Inventory, Platform


def running_platform() -> Platform:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform in ("win32", "cygwin"):
        return "windows"
    raise UsageError(
        f"this operating system ({sys.platform}) is not supported",
        hint="use --platform linux|macos|windows with --root to inspect a captured tree",
    )


def inspect_machine(
    platform: Optional[str] = None,
    root: Optional[Path] = None,
    env: Optional[Mapping[str, str]] = None,
) -> Inventory:
    """Inspect the running machine, or the tree at ``root`` as a machine of ``platform``."""
    chosen = platform or running_platform()
    if chosen not in PLATFORMS:
        raise UsageError(f"unknown platform {chosen!r}", hint=f"choose one of {', '.join(PLATFORMS)}")
    live = root is None or (root == Path("/") and chosen == running_platform())
    base = root or Path("/")
    if not base.is_dir():
        raise InputError(f"--root {base}: not a directory")
    environment = os.environ if env is None else env
    if chosen == "linux":
        from clientcheck.inspect.linux import inspect_linux

        return inspect_linux(base, environment if live else {}, live=live)
    raise UsageError(
        f"inspecting {chosen} is not supported by this version of clientcheck",
        hint="this version inspects Linux machines and Linux --root trees",
    )
