"""Where clientcheck keeps its configuration, state and cache on each OS: the folders ``platformdirs`` names.

Why not call platformdirs: importing it (it loads pathlib, urllib and more) costs about 35 ms here, more
than a whole clientcheck run, and the configuration is looked up on every run. These few functions give
the same folders as ``platformdirs`` with ``appname="clientcheck", appauthor=False``; a test holds them to
platformdirs' own answers on all three OSes (platformdirs is installed only with the tests). Everything
comes from the environment passed in, so tests choose it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

APP = "clientcheck"


def _home(env: Mapping[str, str]) -> str | None:
    home = env.get("HOME", "")
    return home if home.startswith("/") else None


def _xdg(env: Mapping[str, str], name: str, default: str) -> str | None:
    # The XDG base directory spec: a relative value is invalid and must be ignored.
    value = env.get(name, "").strip()
    if value.startswith("/"):
        return value
    home = _home(env)
    return f"{home}/{default}" if home else None


def _windows_folder(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value.rstrip("\\") or None


def _program_data(env: Mapping[str, str]) -> str:
    return _windows_folder(env, "ProgramData") or _windows_folder(env, "ALLUSERSPROFILE") or "C:\\ProgramData"


def user_config_dir(platform: str, env: Mapping[str, str]) -> str | None:
    """The user's configuration folder; None when the environment names no home (a bare service)."""
    if platform == "windows":
        folder = _windows_folder(env, "LOCALAPPDATA")
        return f"{folder}\\{APP}" if folder else None
    if platform == "macos":
        home = _home(env)
        return f"{home}/Library/Application Support/{APP}" if home else None
    base = _xdg(env, "XDG_CONFIG_HOME", ".config")
    return f"{base}/{APP}" if base else None


def site_config_dir(platform: str, env: Mapping[str, str]) -> str:
    """The machine's configuration folder, shared by every user."""
    if platform == "windows":
        return f"{_program_data(env)}\\{APP}"
    if platform == "macos":
        return f"/Library/Application Support/{APP}"
    first = env.get("XDG_CONFIG_DIRS", "").split(":")[0].strip()
    return f"{first if first.startswith('/') else '/etc/xdg'}/{APP}"


def user_state_dir(platform: str, env: Mapping[str, str]) -> str | None:
    """Where a user's run history lives; None without a home."""
    if platform in ("windows", "macos"):
        return user_config_dir(platform, env)  # platformdirs: the user data folder on both
    base = _xdg(env, "XDG_STATE_HOME", ".local/state")
    return f"{base}/{APP}" if base else None


def machine_state_dir(platform: str, env: Mapping[str, str]) -> str:
    """The machine's own state (a run as root or SYSTEM): owner-only, apart from every user's.

    Linux: platformdirs' ``site_state_dir``, ``/var/lib/clientcheck``. On macOS and Windows platformdirs
    names the machine's configuration folder, which every user must read; the state is a ``state``
    folder inside it instead, so that making it owner-only hides no configuration."""
    if platform in ("windows", "macos"):
        separator = "\\" if platform == "windows" else "/"
        return f"{site_config_dir(platform, env)}{separator}state"
    return f"/var/lib/{APP}"


def user_cache_dir(platform: str, env: Mapping[str, str]) -> str | None:
    """Where a user's fetched rule files are cached; None without a home."""
    if platform == "windows":
        folder = _windows_folder(env, "LOCALAPPDATA")
        return f"{folder}\\{APP}\\Cache" if folder else None
    if platform == "macos":
        home = _home(env)
        return f"{home}/Library/Caches/{APP}" if home else None
    base = _xdg(env, "XDG_CACHE_HOME", ".cache")
    return f"{base}/{APP}" if base else None


def site_cache_dir(platform: str, env: Mapping[str, str]) -> str:
    """The machine's cache folder, for a run as root."""
    if platform == "windows":
        return f"{_program_data(env)}\\{APP}\\Cache"
    if platform == "macos":
        return f"/Library/Caches/{APP}"
    return f"/var/cache/{APP}"


def managed_config_path(platform: str) -> str | None:
    """The file an administrator's policy is read from (Windows keeps it in the registry: None)."""
    if platform == "macos":
        return f"/Library/Managed Preferences/{MACOS_DOMAIN}.plist"
    if platform == "linux":
        return f"/etc/{APP}/managed.toml"
    return None


MACOS_DOMAIN = "org.clientcheck.agent"  # the preference domain a configuration profile targets
WINDOWS_POLICY_KEYS = (
    # Group Policy writes here; HKLM wins over HKCU, and users cannot write either.
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\clientcheck",
    "HKEY_CURRENT_USER\\SOFTWARE\\Policies\\clientcheck",
)
