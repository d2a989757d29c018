"""clientcheck.dirs names the same folders as platformdirs (which it avoids importing, for start-up time)."""

from __future__ import annotations

import os

import pytest

from clientcheck import dirs

FOLDER_VARIABLES = ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_DIRS", "XDG_DATA_HOME")


@pytest.mark.parametrize(
    "env",
    [
        {"HOME": "/home/alice"},
        {"HOME": "/home/alice", "XDG_CONFIG_HOME": "/srv/cfg", "XDG_STATE_HOME": "/srv/state"},
        {"HOME": "/home/alice", "XDG_CACHE_HOME": "/srv/cache"},
        {"HOME": "/home/alice", "XDG_CONFIG_DIRS": "/etc/corp-xdg:/etc/xdg"},
    ],
)
def test_linux_folders_are_platformdirs_folders(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]):
    from platformdirs.unix import Unix

    for name in FOLDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reference = Unix(appname="clientcheck", appauthor=False)
    assert dirs.user_config_dir("linux", env) == reference.user_config_dir
    assert dirs.site_config_dir("linux", env) == reference.site_config_dir
    assert dirs.user_state_dir("linux", env) == reference.user_state_dir
    assert dirs.user_cache_dir("linux", env) == reference.user_cache_dir
    assert dirs.site_cache_dir("linux", env) == reference.site_cache_dir == "/var/cache/clientcheck"


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
    assert dirs.user_cache_dir("macos", env) == reference.user_cache_dir == "/Users/alice/Library/Caches/clientcheck"
    assert dirs.site_cache_dir("macos", env) == reference.site_cache_dir == "/Library/Caches/clientcheck"


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
    assert dirs.user_cache_dir("windows", env) == reference.user_cache_dir.replace("/", "\\")
    assert dirs.user_cache_dir("windows", env) == "C:\\Users\\alice\\AppData\\Local\\clientcheck\\Cache"
    assert dirs.site_cache_dir("windows", env) == reference.site_cache_dir.replace("/", "\\")
    assert dirs.site_cache_dir("windows", env) == "C:\\ProgramData\\clientcheck\\Cache"


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
    assert dirs.user_cache_dir("linux", {"XDG_CACHE_HOME": "/srv/cache"}) == "/srv/cache/clientcheck"
    assert dirs.user_cache_dir("linux", {"XDG_CACHE_HOME": "relative"}) is None
    assert dirs.user_cache_dir("macos", {}) is None
    assert dirs.user_cache_dir("windows", {"HOME": "C:\\Users\\alice"}) is None


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


def test_the_rules_cache_folder(monkeypatch: pytest.MonkeyPatch):
    from platformdirs.unix import Unix

    import clientcheck.deliver
    from clientcheck.rules.cache import cache_dir, open_cache_folder

    for name in (*FOLDER_VARIABLES, "CLIENTCHECK_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "/home/alice")  # platformdirs reads the process's environment; cache_dir the one given
    reference = Unix(appname="clientcheck", appauthor=False)
    env = {"HOME": "/home/alice"}
    monkeypatch.setattr(clientcheck.deliver, "effective_uid", lambda: 1000)
    assert cache_dir(env) == reference.user_cache_dir == "/home/alice/.cache/clientcheck"
    assert cache_dir({**env, "XDG_CACHE_HOME": "/srv/cache"}) == "/srv/cache/clientcheck"
    assert cache_dir({**env, "CLIENTCHECK_CACHE_DIR": "/srv/rules-cache"}) == "/srv/rules-cache"
    monkeypatch.setattr(clientcheck.deliver, "effective_uid", lambda: 0)
    assert cache_dir(env) == reference.site_cache_dir == "/var/cache/clientcheck"
    # An ordinary user whose environment names no home: no cache, and a note that says why.
    monkeypatch.setattr(clientcheck.deliver, "effective_uid", lambda: 1000)
    assert cache_dir({}) is None
    assert open_cache_folder(None, {}) == (
        None,
        ["no rules cache folder (the environment names no home); fetching without a cache"],
    )


def test_finding_the_cache_folder_imports_no_platformdirs(tmp_path):
    # platformdirs is only for these tests: a run, fetching rules or not, never imports it.
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "from clientcheck.rules.cache import cache_dir\n"
        "print(cache_dir(os.environ) in ('/var/cache/clientcheck', sys.argv[1] + '/.cache/clientcheck'))\n"
        "print('platformdirs' in sys.modules)\n"
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["True", "False"]
