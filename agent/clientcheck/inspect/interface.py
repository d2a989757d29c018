"""The languages the user's desktop speaks, on Windows and macOS, where a session's environment usually names
no locale (a scheduled task, a launch agent): read from the registry and from a preferences file, never
from a program (``defaults``, PowerShell's ``Get-WinUserLanguageList``).

The reader of a report is the person running clientcheck: these are always the running machine's user's
languages, also when another machine (``--root``, ``--registry``) is inspected.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck.inspect.registry import Registry

# Where Windows keeps the display language, most specific first: the user's own choice of display language
# (Settings, or a policy), the user's list of languages in order, then the machine's display language.
WINDOWS_LANGUAGE_VALUES = (
    ("HKEY_CURRENT_USER\\Control Panel\\Desktop", "PreferredUILanguages"),
    ("HKEY_CURRENT_USER\\Control Panel\\International\\User Profile", "Languages"),
    ("HKEY_CURRENT_USER\\Control Panel\\Desktop\\MuiCached", "MachinePreferredUILanguages"),
)
# macOS: the user's languages in order of preference (System Settings > General > Language & Region).
MACOS_PREFERENCES = "Library/Preferences/.GlobalPreferences.plist"
MACOS_LANGUAGES_KEY = "AppleLanguages"
_PLIST_LIMIT = 4 * 1024 * 1024
# The protocol handler "clientcheck autostart install" registers on Windows, which a toast's "check again"
# button opens (autostart/windows.py writes it).
RECHECK_COMMANDS = (
    "HKEY_CURRENT_USER\\Software\\Classes\\clientcheck\\shell\\open\\command",
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\clientcheck\\shell\\open\\command",
)


def windows_languages(registry: Registry) -> list[str]:
    """The user's display languages (``de-DE``), from the first of ``WINDOWS_LANGUAGE_VALUES`` that holds
    any (a REG_MULTI_SZ; a REG_SZ is taken as one)."""
    for key, name in WINDOWS_LANGUAGE_VALUES:
        value = registry.value(key, name)
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        found = [item.strip() for item in items if isinstance(item, str) and item.strip()]
        if found:
            return found
    return []


def recheck_registered(registry: Registry) -> bool:
    """Whether the ``clientcheck:`` protocol handler is registered, for the user or the machine: without
    it, a toast's "check again" button would only make Windows ask which app should open the link."""
    return any(registry.string(key, "") for key in RECHECK_COMMANDS)


def macos_languages(data: bytes) -> list[str]:
    """``AppleLanguages`` of a ``.GlobalPreferences.plist`` (binary or XML): ``["de-DE", "en-US"]``."""
    from clientcheck.inspect.macos import PlistError, parse_plist

    try:
        preferences = parse_plist(data)
    except PlistError:
        return []
    value = preferences.get(MACOS_LANGUAGES_KEY)
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def interface_languages(platform: str, env: Mapping[str, str]) -> list[str]:
    """The running user's interface languages, best first; empty where there is nothing to read (Linux: a
    desktop session sets LANG) or it cannot be read."""
    if platform == "windows":
        from clientcheck.inspect.registry import LiveRegistry

        return windows_languages(LiveRegistry())
    if platform == "macos":
        home = env.get("HOME", "")
        if not home.startswith("/"):
            return []
        from clientcheck.reading import FileProblem, read_file

        try:
            return macos_languages(read_file(os.path.join(home, MACOS_PREFERENCES), _PLIST_LIMIT))
        except FileProblem:
            return []
    return []
