"""The macOS LaunchAgent: what launchd needs in it, read back with plistlib and with libplist (plistutil, a
parser that is not Python's), and the launchctl commands a per-user install runs."""

from __future__ import annotations

import os
import plistlib
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from clientcheck import autostart
from conftest import needs_tool

PLISTUTIL = shutil.which("plistutil")

# A path launchd has to take as it is: spaces, XML's own specials, non-ASCII, and what looks like a CDATA end.
PROGRAM = "/Users/Jürgen Ωmega/Apps & <Tools>/]]>/bin/clientcheck"
COMMAND = [PROGRAM, "login", 'say "hi"', "50% & more", "tab\there", ""]


def install(tmp_path: Path, *, system: bool, command: list[str] = COMMAND, runner=None) -> Path:
    (tmp_path / "Users/Jürgen Ωmega/Library").mkdir(parents=True, exist_ok=True)
    (tmp_path / "Library/LaunchAgents").mkdir(parents=True, exist_ok=True)
    (tmp_path / "Library/LaunchDaemons").mkdir(parents=True, exist_ok=True)
    changes = autostart.install(
        "macos", system=system, env={"HOME": "/Users/Jürgen Ωmega"}, command=command, root=str(tmp_path), runner=runner
    )
    return Path(changes[0].path)


@pytest.mark.parametrize("system", [False, True], ids=["user", "system"])
def test_the_launch_agent_has_what_launchd_needs(system: bool, tmp_path: Path):
    path = install(tmp_path, system=system)
    where = "Library/LaunchAgents" if system else "Users/Jürgen Ωmega/Library/LaunchAgents"
    assert path == tmp_path / where / "org.clientcheck.agent.plist"
    data = path.read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist')
    agent = plistlib.loads(data)
    log = "/dev/null" if system else "/Users/Jürgen Ωmega/Library/Logs/clientcheck.log"
    assert agent == {
        "Label": "org.clientcheck.agent",
        "ProgramArguments": COMMAND,
        "WorkingDirectory": "/Users/Jürgen Ωmega/Apps & <Tools>/]]>/bin",
        "EnvironmentVariables": {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
        "RunAtLoad": True,
        "StartCalendarInterval": [{"Hour": hour, "Minute": 17} for hour in (1, 5, 9, 13, 17, 21)],
        "LimitLoadToSessionType": "Aqua",
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "StandardOutPath": log,
        "StandardErrorPath": log,
    }
    assert all(os.path.isabs(argument) for argument in agent["ProgramArguments"][:1])
    # launchd refuses an agent that others may write.
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@needs_tool("plistutil", "libplist-utils")
def test_libplist_reads_the_same_property_list(tmp_path: Path):
    path = install(tmp_path, system=False)
    binary = tmp_path / "agent.bplist"
    proc = subprocess.run(
        [PLISTUTIL, "-i", str(path), "-o", str(binary), "-f", "bin"], capture_output=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert binary.read_bytes().startswith(b"bplist00")
    assert plistlib.loads(binary.read_bytes()) == plistlib.loads(path.read_bytes())


def test_a_per_user_install_loads_the_agent_now_and_uninstall_unloads_it(tmp_path: Path):
    ran: list[list[str]] = []

    def launchctl(argv):
        ran.append(list(argv))
        # bootout of an agent that is not loaded fails ("No such process"); that must not matter.
        return autostart.CommandResult(3 if argv[1] == "bootout" else 0, "Boot-out failed: 3: No such process")

    path = install(tmp_path, system=False, runner=launchctl)
    domain = f"gui/{os.getuid()}"
    assert ran == [
        ["/bin/launchctl", "bootout", f"{domain}/org.clientcheck.agent"],
        ["/bin/launchctl", "bootstrap", domain, str(path)],
    ]
    ran.clear()
    changes = autostart.install(
        "macos", env={"HOME": "/Users/Jürgen Ωmega"}, command=COMMAND, root=str(tmp_path), runner=launchctl
    )
    assert [change.action for change in changes] == ["unchanged"] and ran == []  # nothing to reload

    changes = autostart.uninstall(
        "macos", env={"HOME": "/Users/Jürgen Ωmega"}, command=COMMAND, root=str(tmp_path), runner=launchctl
    )
    assert ran == [["/bin/launchctl", "bootout", f"{domain}/org.clientcheck.agent"]]
    assert [change.action for change in changes] == ["removed"]
    assert not path.exists() and not path.parent.exists()  # ~/Library/LaunchAgents was ours alone


def test_a_failed_bootstrap_is_reported_not_raised(tmp_path: Path):
    def launchctl(argv):
        return autostart.CommandResult(5, "Bootstrap failed: 5: Input/output error\n")

    install(tmp_path, system=False, runner=launchctl)
    changes = autostart.install(
        "macos", env={"HOME": "/Users/Jürgen Ωmega"}, command=[*COMMAND, "x"], root=str(tmp_path), runner=launchctl
    )
    assert [(change.action, change.detail) for change in changes] == [
        ("updated", None),
        ("failed", "Bootstrap failed: 5: Input/output error"),
    ]


def test_a_system_install_loads_the_machine_daemon_now_and_each_users_agent_at_their_login(tmp_path: Path):
    ran: list[list[str]] = []

    def launchctl(argv):
        ran.append(list(argv))
        return autostart.CommandResult(0)

    install(tmp_path, system=True, runner=launchctl)
    daemon = tmp_path / "Library/LaunchDaemons/org.clientcheck.machine.plist"
    assert ran == [
        ["/bin/launchctl", "bootout", "system/org.clientcheck.machine"],
        ["/bin/launchctl", "bootstrap", "system", str(daemon)],
    ]
    ran.clear()
    changes = autostart.uninstall(
        "macos", system=True, env={"HOME": "/Users/Jürgen Ωmega"}, command=COMMAND, root=str(tmp_path), runner=launchctl
    )
    assert ran == [["/bin/launchctl", "bootout", "system/org.clientcheck.machine"]]
    assert [change.action for change in changes][:3] == ["removed", "ran", "removed"]
    assert not daemon.exists()
    assert [change.action for change in changes if change.kind == "machine run's log"] == ["absent"]


def test_a_system_uninstall_removes_the_machine_runs_log_and_not_through_a_link(tmp_path: Path):
    install(tmp_path, system=True)
    log = tmp_path / "Library/Logs/clientcheck-machine.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("clientcheck: shipped 1 report\n")
    changes = autostart.uninstall("macos", system=True, env={"HOME": "/Users/ada"}, command=COMMAND, root=str(tmp_path))
    [removed] = [change for change in changes if change.kind == "machine run's log"]
    assert (removed.action, log.exists()) == ("removed", False)
    install(tmp_path, system=True)
    kept = tmp_path / "elsewhere.log"
    kept.write_text("someone else's\n")
    log.symlink_to(kept)
    changes = autostart.uninstall("macos", system=True, env={"HOME": "/Users/ada"}, command=COMMAND, root=str(tmp_path))
    [kept_change] = [change for change in changes if change.kind == "machine run's log"]
    assert (kept_change.action, kept_change.detail) == ("kept", "not a regular file")
    assert log.is_symlink() and kept.read_text() == "someone else's\n"


def test_the_machine_daemon_runs_the_machine_check_as_root_every_hour(tmp_path: Path):
    install(tmp_path, system=True)
    path = tmp_path / "Library/LaunchDaemons/org.clientcheck.machine.plist"
    daemon = plistlib.loads(path.read_bytes())
    assert daemon == {
        "Label": "org.clientcheck.machine",
        "ProgramArguments": [PROGRAM, "ship", "--check", "--scheduled"],
        "WorkingDirectory": "/",
        "EnvironmentVariables": {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
        "RunAtLoad": True,
        "StartInterval": 3600,
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "StandardOutPath": "/Library/Logs/clientcheck-machine.log",
        "StandardErrorPath": "/Library/Logs/clientcheck-machine.log",
    }
    assert "UserName" not in daemon  # a LaunchDaemon without one runs as root
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # launchd refuses one that others may write
    if PLISTUTIL:
        proc = subprocess.run([PLISTUTIL, "-i", str(path), "-f", "bin"], capture_output=True, check=False)
        assert proc.returncode == 0 and plistlib.loads(proc.stdout) == daemon, proc.stderr


def test_a_plist_someone_else_wrote_under_our_name_is_left_alone(tmp_path: Path):
    agents = tmp_path / "Users/ada/Library/LaunchAgents"
    agents.mkdir(parents=True)
    theirs = plistlib.dumps({"Label": "com.example.other", "ProgramArguments": ["/usr/bin/true"]})
    (agents / "org.clientcheck.agent.plist").write_bytes(theirs)
    [change] = autostart.uninstall("macos", env={"HOME": "/Users/ada"}, command=COMMAND, root=str(tmp_path))
    assert change.action == "kept"
    assert (agents / "org.clientcheck.agent.plist").read_bytes() == theirs
