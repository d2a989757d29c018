"""Which rule file judges the machine when the requested one cannot be used.

A local path named on the command line that is not a regular file is an error (exit 3, Nagios UNKNOWN):
a typo must not have the machine judged by rules nobody chose. A rule source from the configuration, the
environment or a managed policy (a share not mounted yet at login), and a URL that fails, fall back to
the last good rules (here: the bundled ones) with a warning, and the report says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clientcheck.config import Places
from conftest import DESIGN_EXAMPLE, LINUX_FIXTURES

DEBIAN = ("--root", str(LINUX_FIXTURES / "debian-12-desktop" / "root"), "--platform", "linux")


def _not_a_file(tmp_path: Path, kind: str) -> str:
    if kind == "missing":
        return str(tmp_path / "rules.jsno")
    if kind == "folder":
        return str(tmp_path)
    if kind == "fifo":
        fifo = tmp_path / "rules.json"
        os.mkfifo(fifo)
        return str(fifo)
    if kind == "device":
        return os.devnull
    dangling = tmp_path / "rules.json"
    dangling.symlink_to(tmp_path / "gone.json")
    return str(dangling)


KINDS = ["missing", "folder", "fifo", "device", "dangling-link"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_rules_path_on_the_command_line_that_is_not_a_file_is_an_error(run_cli, tmp_path, kind):
    path = _not_a_file(tmp_path, kind)
    result = run_cli(*DEBIAN, "--rules", path)
    assert result.status == 3
    assert result.out == ""
    assert result.err.splitlines()[0].startswith(f"clientcheck: error: {path}: ")
    assert "--rules takes a rule file" in result.err


@pytest.mark.parametrize("kind", KINDS)
def test_nagios_says_unknown_for_it(run_cli, tmp_path, kind):
    path = _not_a_file(tmp_path, kind)
    result = run_cli(*DEBIAN, "--rules", path, "--format", "nagios")
    assert result.status == 3
    assert result.out.startswith(f"CLIENTCHECK UNKNOWN - {path}: ")


def test_a_fifo_given_as_rules_does_not_hang_a_real_run(tmp_path):
    fifo = tmp_path / "rules.json"
    os.mkfifo(fifo)
    # Nobody ever writes to the FIFO: opening it would block for ever. The timeout is only a safety net.
    run = subprocess.run(
        [sys.executable, "-m", "clientcheck", *DEBIAN, "--rules", str(fifo)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 3
    assert "a named pipe (FIFO), not a regular file" in run.stderr


def test_login_with_a_missing_rules_path_is_an_error_too(run_cli, tmp_path):
    env = {"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    result = run_cli("login", "--force", "--rules", str(tmp_path / "missing.json"), env=env)
    assert result.status == 3
    assert not (tmp_path / "state" / "clientcheck" / "last.json").exists()


def test_a_link_to_a_rule_file_is_a_rule_file(run_cli, tmp_path):
    link = tmp_path / "rules.json"
    link.symlink_to(DESIGN_EXAMPLE)
    result = run_cli(*DEBIAN, "--rules", str(link), "--format", "json")
    assert result.status == 1
    assert result.json()["rules"]["source"] == str(link)
    assert result.json()["rules"]["fallback_reason"] is None


def test_an_invalid_file_on_the_command_line_still_falls_back_with_a_warning(run_cli, tmp_path):
    # It is there, so it is no typo: the publisher's file is broken, and the report says which rules judged.
    invalid = tmp_path / "rules.json"
    invalid.write_text("{", encoding="utf-8")
    result = run_cli(*DEBIAN, "--rules", str(invalid), "--format", "json")
    assert result.status == 1
    assert result.json()["rules"]["source"] == "bundled"
    assert result.err.startswith(f"clientcheck: warning: {invalid}: ")


def _fallback(result) -> str:
    assert result.status in (0, 1), result.err
    document = result.json()
    assert document["rules"]["source"] == "bundled"
    reason: str = document["rules"]["fallback_reason"]
    assert reason.endswith("using the bundled rules instead")
    assert "clientcheck: warning: " in result.err
    return reason


def test_a_configured_rules_file_that_is_missing_falls_back(run_cli, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[rules]\nsource = "{tmp_path / "share" / "rules.json"}"\n', encoding="utf-8")
    places = Places(machine=None, user=str(config), managed=None)
    reason = _fallback(run_cli(*DEBIAN, "--format", "json", places=places))
    assert reason.startswith(f"{tmp_path / 'share' / 'rules.json'}: cannot read")


def test_a_managed_rules_file_that_is_missing_falls_back(run_cli, tmp_path):
    managed = tmp_path / "managed.toml"
    managed.write_text(f'[rules]\nsource = "{tmp_path / "share" / "rules.json"}"\n', encoding="utf-8")
    places = Places(machine=None, user=None, managed=str(managed))
    _fallback(run_cli(*DEBIAN, "--format", "json", places=places))


def test_a_rules_file_from_the_environment_falls_back_as_configuration_does(run_cli, tmp_path):
    env = {"CLIENTCHECK_RULES_SOURCE": str(tmp_path / "missing.json")}
    _fallback(run_cli(*DEBIAN, "--format", "json", env=env))


def test_a_url_that_fails_falls_back(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("CLIENTCHECK_CACHE_DIR", str(tmp_path / "cache"))
    # Port 9 (discard) on this machine: nothing listens, the connection is refused at once.
    reason = _fallback(run_cli(*DEBIAN, "--format", "json", "--rules", "http://127.0.0.1:9/rules.json"))
    assert "127.0.0.1:9" in reason
