"""clientcheck.dirs names the same folders as platformdirs (which it avoids importing, for start-up time)."""

from __future__ import annotations

import os

import pytest

from clientcheck import dirs


@pytest.mark.parametrize(
    "env",
    [
        {"HOME": "/home/alice"},
        {"HOME": "/home/alice", "XDG_CONFIG_HOME": "/srv/cfg", "XDG_STATE_HOME": "/srv/state"},
        {"HOME": "/home/alice", "XDG_CONFIG_DIRS": "/etc/corp-xdg:/etc/xdg"},
    ],
)
def test_linux_folders_are_platformdirs_folders(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]):
    from platformdirs.unix import Unix

    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CONFIG_DIRS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reference = Unix(appname="clientcheck", appauthor=False)
    assert dirs.user_config_dir("linux", env) == reference.user_config_dir
    assert dirs.site_config_dir("linux", env) == reference.site_config_dir
    assert dirs.user_state_dir("linux", env) == reference.user_state_dir


def test_macos_folders_are_platformdirs_folders(monkeypatch: pytest.MonkeyPatch):
    from platformdirs.macos import MacOS

    # A Mac's environment: HOME only (platformdirs would follow XDG_* variables on a Mac too).
    for name in [name for name in os.environ if name.startswith("XDG_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", "/Users/alice")
    reference = MacOS(appname="clientcheck", appauthor=False)
    env = {"HOME": "/Users/alice"}
    assert dirs.user_config_dir("macos", env) == reference.user_config_dir
    assert dirs.site_config_dir("macos", env) == reference.site_config_dir.split(":")[0]
    assert dirs.user_state_dir("macos", env) == reference.user_state_dir


def test_windows_folders_are_platformdirs_folders(monkeypatch: pytest.MonkeyPatch):
    import platformdirs.windows as windows

    known = {
        "CSIDL_LOCAL_APPDATA": "C:\\Users\\alice\\AppData\\Local",
        "CSIDL_COMMON_APPDATA": "C:\\ProgramData",
        "CSIDL_APPDATA": "C:\\Users\\alice\\AppData\\Roaming",
    }
    monkeypatch.setattr(windows, "get_win_folder", known.__getitem__)
    reference = windows.Windows(appname="clientcheck", appauthor=False)
    env = {"LOCALAPPDATA": known["CSIDL_LOCAL_APPDATA"], "ProgramData": known["CSIDL_COMMON_APPDATA"]}
    assert dirs.user_config_dir("windows", env) == reference.user_config_dir.replace("/", "\\")
    assert dirs.site_config_dir("windows", env) == reference.site_config_dir.replace("/", "\\")
    assert dirs.user_state_dir("windows", env) == reference.user_state_dir.replace("/", "\\")


def test_without_a_home_there_is_no_user_folder():
    assert dirs.user_config_dir("linux", {}) is None
    assert dirs.user_config_dir("linux", {"HOME": "relative/home"}) is None
    assert (
        dirs.user_config_dir("linux", {"HOME": "/root", "XDG_CONFIG_HOME": "not/absolute"})
        == "/root/.config/clientcheck"
    )
    assert dirs.user_state_dir("macos", {}) is None
    assert dirs.user_config_dir("windows", {}) is None
    assert dirs.site_config_dir("windows", {}) == "C:\\ProgramData\\clientcheck"


def test_managed_policy_places():
    assert dirs.managed_config_path("linux") == "/etc/clientcheck/managed.toml"
    assert dirs.managed_config_path("macos") == "/Library/Managed Preferences/org.clientcheck.agent.plist"
    assert dirs.managed_config_path("windows") is None


def test_the_machines_state_folder():
    from platformdirs.unix import Unix

    # Linux: platformdirs' own answer. macOS and Windows: platformdirs names the machine's configuration
    # folder, which users must read; the state (made owner-only) is a folder inside it.
    assert dirs.machine_state_dir("linux", {}) == Unix(appname="clientcheck", appauthor=False).site_state_dir
    assert dirs.machine_state_dir("linux", {}) == "/var/lib/clientcheck"
    assert dirs.machine_state_dir("macos", {}) == "/Library/Application Support/clientcheck/state"
    assert (
        dirs.machine_state_dir("windows", {"ProgramData": "D:\\ProgramData"}) == "D:\\ProgramData\\clientcheck\\state"
    )
