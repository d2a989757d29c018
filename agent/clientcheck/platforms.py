"""Which OS this is, in the names reports use (``linux``, ``macos``, ``windows``).

Below inspection on purpose: the settings, the notifications, the login entries and the rules' state
folders each need the running machine's OS, and none of them should have to import the inspectors to learn
it. Which OS a ``--root`` tree is, is inspection's question (``inspect.detect_platform``).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.model import Platform


def host_platform() -> Platform | None:
    """The running machine's OS; None for one clientcheck does not inspect."""
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform in ("win32", "cygwin"):
        return "windows"
    return None


def running_platform() -> Platform:
    """The running machine's OS, for inspecting it; ``UsageError`` on one clientcheck does not inspect."""
    found = host_platform()
    if found is not None:
        return found
    from clientcheck.errors import UsageError

    raise UsageError(
        f"this operating system ({sys.platform}) is not supported",
        hint="use --platform linux|macos|windows with --root to inspect a captured tree",
    )


def this_platform() -> Platform:
    """The running machine's OS, for its own folders, settings, notifications and login entries: another
    Unix keeps them where Linux does."""
    return host_platform() or "linux"
