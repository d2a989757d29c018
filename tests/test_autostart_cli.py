"""`clientcheck autostart` through the command line, for the user running it (here: Linux)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def test_install_status_uninstall_for_this_user(run_cli, tmp_path: Path):
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "PATH": "/usr/bin:/bin"}
    before = run_cli("autostart", "status", "--method", "xdg", env=env)
    assert before.status == 1
    assert "not installed" in before.out
    installed = run_cli("autostart", "install", "--method", "xdg", env=env)
    assert installed.status == 0
    entry = home / ".config" / "autostart" / "clientcheck.desktop"
    assert f"installed: {entry} (" in installed.out
    validated = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert (validated.returncode, validated.stdout) == (0, "")
    assert "login" in entry.read_text()
    again = run_cli("autostart", "install", "--method", "xdg", env=env)
    assert f"already installed: {entry}" in again.out
    assert run_cli("autostart", "status", "--method", "xdg", env=env).status == 0
    removed = run_cli("autostart", "uninstall", env=env)
    assert removed.status == 0
    assert not entry.exists()


def test_method_is_checked(run_cli):
    run = run_cli("autostart", "install", "--method", "cron")
    assert run.status == 2
    assert "invalid value 'cron' for --method" in run.err
