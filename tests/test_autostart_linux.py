"""Linux autostart entries, read by the programs that really read them:

- desktop-file-validate (desktop-file-utils) on the XDG entry, per user and system-wide;
- GLib's launcher (``gio launch``, what GNOME uses) starts the entry: the program gets exactly our
  arguments, in the entry's working folder;
- ``systemd-analyze verify`` on the units;
- a real systemd user manager (started for the test in a throw-away root, so the machine's own /run, /etc
  and /var are untouched) loads the units, reports the timer enabled, and runs the service with exactly our
  arguments; its XDG autostart generator turns the desktop entry into a unit that does the same.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from clientcheck import autostart
from clientcheck.autostart import linux as autostart_linux
from clientcheck.autostart.linux import check_now_command
from conftest import missing, needs_tool, require_tool
from throwaway_root import ThrowawayRoot

DESKTOP_FILE_VALIDATE = shutil.which("desktop-file-validate")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
SYSTEMCTL = shutil.which("systemctl")
GIO = shutil.which("gio")
SYSTEMD = next((path for path in ("/usr/lib/systemd/systemd", "/lib/systemd/systemd") if os.path.exists(path)), None)
XDG_GENERATOR = "/usr/lib/systemd/user-generators/systemd-xdg-autostart-generator"

# Arguments every layer of quoting must carry through unchanged: spaces, both quotes, the shell's and
# systemd's specials, a field code, an empty argument, non-ASCII.
USER_UNITS = (autostart_linux.KIND_SERVICE, autostart_linux.KIND_TIMER, autostart_linux.KIND_ENABLE)
NASTY_ARGUMENTS = [
    "login",
    "a b",
    'say "hi"',
    "it's",
    "$HOME",
    "${HOME}",
    "50%",
    "%h",
    "",
    "tick`",
    "semi;",
    "Jürgen Ωmega",
]


def fake_program(folder: Path, record: Path) -> Path:
    """An executable that appends its argv and working folder to ``record`` (a JSON line per run)."""
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / "clientcheck"
    program.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"with open({str(record)!r}, 'a', encoding='utf-8') as stream:\n"
        "    stream.write(json.dumps({'argv': sys.argv, 'cwd': os.getcwd()}) + '\\n')\n",
        encoding="utf-8",
    )
    program.chmod(0o755)
    return program


def runs(record: Path, count: int = 1, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if record.exists():
            lines = record.read_text(encoding="utf-8").splitlines()
            if len(lines) >= count:
                return [json.loads(line) for line in lines]
        time.sleep(0.05)
    raise AssertionError(f"the program did not run {count} time(s) within {timeout} s")


# --- the desktop entry ------------------------------------------------------------------------------


@needs_tool("desktop-file-validate", "desktop-file-utils")
@pytest.mark.parametrize("system", [False, True], ids=["user", "system"])
def test_the_desktop_entry_passes_desktop_file_validate(system: bool, tmp_path: Path):
    command = [str(tmp_path / "Programme ünï $x 'q'" / "bin" / "clientcheck"), *NASTY_ARGUMENTS, "back\\slash"]
    changes = autostart.install(
        "linux", system=system, method="xdg", env={"HOME": "/home/ada"}, command=command, root=str(tmp_path)
    )
    [entry] = [Path(change.path) for change in changes if change.kind == autostart_linux.KIND_DESKTOP]
    [menu] = [Path(change.path) for change in changes if change.kind == autostart_linux.KIND_CHECK_NOW]
    expected = "etc/xdg/autostart" if system else "home/ada/.config/autostart"
    assert entry == tmp_path / expected / "clientcheck.desktop"
    # And the menu's "Check for updates now", named in every language clientcheck speaks.
    applications = "usr/local/share/applications" if system else "home/ada/.local/share/applications"
    assert menu == tmp_path / applications / "clientcheck-check-now.desktop"
    for path in (entry, menu):
        proc = subprocess.run([DESKTOP_FILE_VALIDATE, str(path)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", proc.stdout + proc.stderr
    text = menu.read_text(encoding="utf-8")
    assert "\nName=Check for updates now\n" in text
    assert (
        "\nName[de]=Jetzt nach Updates suchen\n" in text
        and "\nName[fr]=Rechercher des mises à jour maintenant\n" in text
    )
    assert "Exec=" in text and " login --force\n" in text


@needs_tool("gio", "libglib2.0-bin")
def test_glib_starts_the_desktop_entry_with_exactly_our_arguments(tmp_path: Path):
    record = tmp_path / "runs.jsonl"
    # Every character the Exec quoting rules treat specially, in the program's path and its arguments.
    program = fake_program(tmp_path / "Programme ünï $x 'q' \"dq\" back\\slash" / "bin", record)
    command = [str(program), *NASTY_ARGUMENTS, "back\\slash"]
    change, menu = autostart.install("linux", method="xdg", env={"HOME": str(tmp_path / "home")}, command=command)
    proc = subprocess.run([GIO, "launch", change.path], capture_output=True, text=True, check=False, timeout=30)
    assert proc.returncode == 0, proc.stderr
    [run] = runs(record)
    assert run["argv"] == command
    assert run["cwd"] == str(program.parent)  # Path=: never the home, where a "clientcheck" folder could shadow us
    # The menu's "Check for updates now" runs the same, at once: clientcheck login --force.
    proc = subprocess.run([GIO, "launch", menu.path], capture_output=True, text=True, check=False, timeout=30)
    assert proc.returncode == 0, proc.stderr
    _, checked = runs(record, 2)
    assert checked["argv"] == check_now_command(command)  # [*command, "login", "--force"]: no "login" at its end


def test_a_percent_sign_in_the_programs_path_is_refused_for_xdg(tmp_path: Path):
    # Written per the spec ("%%"), neither GLib nor systemd's generator would find the program.
    with pytest.raises(autostart.AutostartError, match="has a % sign"):
        autostart.install("linux", method="xdg", env={"HOME": "/home/ada"}, command=["/opt/100%/clientcheck", "login"])


# --- the systemd units --------------------------------------------------------------------------------


@needs_tool("systemd-analyze", "systemd")
def test_the_machine_units_pass_systemd_analyze_verify_and_run_the_machine_check(tmp_path: Path):
    program = fake_program(tmp_path / "Programme ünï $x" / "bin", tmp_path / "runs.jsonl")
    (tmp_path / "usr/lib/systemd/system").mkdir(parents=True)
    changes = autostart.install(
        "linux",
        system=True,
        method="xdg",
        env={},
        command=[str(program), "login", "--delay", "30s"],
        root=str(tmp_path),
    )
    machine = {change.kind: Path(change.path) for change in changes if "machine run" in change.kind}
    service = machine[autostart_linux.KIND_MACHINE_SERVICE]
    timer = machine[autostart_linux.KIND_MACHINE_TIMER]
    assert service == tmp_path / "etc/systemd/system/clientcheck-machine.service"
    link = machine[autostart_linux.KIND_MACHINE_ENABLE]
    assert link.is_symlink() and os.readlink(link) == "../clientcheck-machine.timer"
    # The same program, running the machine's check and shipping: login's own options are not its.
    assert f'ExecStart="{program}" ship --check --scheduled\n' in service.read_text(encoding="utf-8")
    assert "OnUnitActiveSec=1h\n" in timer.read_text(encoding="utf-8")
    proc = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", str(service), str(timer)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@needs_tool("systemd-analyze", "systemd")
@pytest.mark.parametrize("system", [False, True], ids=["user", "system"])
def test_the_units_pass_systemd_analyze_verify(system: bool, tmp_path: Path):
    program = fake_program(tmp_path / "Programme ünï $x" / "bin", tmp_path / "runs.jsonl")
    (tmp_path / "usr/lib/systemd/user").mkdir(parents=True)
    changes = autostart.install(
        "linux",
        system=system,
        method="systemd",
        env={"HOME": "/home/ada"},
        command=[str(program), *NASTY_ARGUMENTS, "back\\slash"],
        root=str(tmp_path),
    )
    units = [change.path for change in changes if change.kind in USER_UNITS]
    assert len(units) == 3  # service, timer, and the enabling link to the timer
    runtime = Path(tempfile.mkdtemp(prefix="cc-rt-"))  # verify builds a manager, which needs a runtime folder
    try:
        proc = subprocess.run(
            [SYSTEMD_ANALYZE, "verify", "--user", "--man=no", *units[:2]],
            env={**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path / "home/ada")},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    finally:
        shutil.rmtree(runtime)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    # And verify does look at the program: the same units with a program that is not there are refused.
    program.unlink()
    proc = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--user", "--man=no", units[0]],
        env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode != 0 and "is not executable" in proc.stderr


def test_systemd_refuses_quotes_in_the_programs_path_so_we_do_too():
    # systemd: "Executable name contains special characters"; better said at install than never run.
    with pytest.raises(autostart.AutostartError, match="systemd cannot run"):
        autostart.install(
            "linux", method="systemd", env={"HOME": "/home/ada"}, command=["/opt/it's/clientcheck", "login"]
        )


# --- a real user service manager -------------------------------------------------------------------


class UserManager:
    """``systemd --user`` for one test, in a throw-away root (tests/throwaway_root.py): /run is a fresh tmpfs
    there (with the /run/systemd/system that tells systemd it may run), and whatever it writes under /etc or
    /var stays in the root's overlay."""

    def __init__(self, root: ThrowawayRoot, home: Path) -> None:
        self.runtime = Path(tempfile.mkdtemp(prefix="cc-rt-"))  # short: the socket path is limited to 108 bytes
        self.runtime.chmod(0o700)
        # A login's environment: the XDG folders from HOME, the system's /etc/xdg (not the test's own).
        self.env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(self.runtime)}
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_DIRS"):
            self.env.pop(name, None)
        root.run(["mkdir", "-p", "/run/systemd/system"], check=True)
        self.log = self.runtime / "manager.log"
        with open(self.log, "wb") as log:
            self.process = root.popen(
                [SYSTEMD, "--user"], env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        # Ready when its private socket is there; a manager that cannot start says why in its log.
        deadline = time.monotonic() + 60
        while not (self.runtime / "systemd" / "private").exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.log.read_text(errors="replace")
                self.stop()
                missing(f"cannot start a systemd user manager here: {output.strip()[-300:]}")
            time.sleep(0.05)

    def systemctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [SYSTEMCTL, "--user", "--no-pager", *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        if check:
            assert proc.returncode == 0, f"systemctl {' '.join(args)}: {proc.stdout}{proc.stderr}"
        return proc

    def show(self, unit: str, prop: str) -> str:
        return self.systemctl("show", "-P", prop, unit).stdout.strip()

    def stop(self) -> None:
        if self.process.poll() is None:
            subprocess.run([SYSTEMCTL, "--user", "exit"], env=self.env, capture_output=True, timeout=30, check=False)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.runtime, ignore_errors=True)


@pytest.fixture
def user_manager(monkeypatch: pytest.MonkeyPatch, throwaway_root: ThrowawayRoot):
    require_tool("systemctl", "systemd")
    if SYSTEMD is None:
        missing("systemd is not installed (apt-get install systemd; .ci/run installs it)")
    started: list[UserManager] = []

    def start(home: Path, etc: Path | None = None) -> UserManager:
        """A manager for ``home``; ``etc``, a staged /etc, is copied into the root's /etc first."""
        if etc is not None:
            shutil.copytree(etc, throwaway_root.path("/etc"), symlinks=True, dirs_exist_ok=True)
        manager = UserManager(throwaway_root, home)
        started.append(manager)
        # The live runner (systemctl --user daemon-reload …) talks to this manager.
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(manager.runtime))
        monkeypatch.setenv("HOME", str(home))
        return manager

    yield start
    for manager in started:
        manager.stop()


def test_a_real_user_manager_runs_the_units_and_the_autostart_entry(user_manager, tmp_path: Path):
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    record = tmp_path / "runs.jsonl"
    # systemd's own XDG generator (v252) keeps a backslash before $ and ` in arguments, fails on \, and
    # refuses $ in the program's path (GLib, above, reads the same entry right): so this command has what
    # real installs have, spaces and non-ASCII letters in the path, and the other specials in arguments.
    program = fake_program(tmp_path / "Programme Jürgen" / "bin", record)
    command = [str(program), *[argument for argument in NASTY_ARGUMENTS if not any(c in argument for c in "$`")]]
    manager = user_manager(home)

    changes = autostart.install("linux", env={"HOME": str(home)}, command=command, runner=autostart.run_command)
    assert [(change.path, change.action) for change in changes if change.action in ("ran", "failed")] == [
        ("systemctl --user daemon-reload", "ran"),
        ("systemctl --user restart clientcheck.timer", "ran"),
    ]
    assert manager.show("clientcheck.timer", "UnitFileState") == "enabled"
    assert manager.show("clientcheck.timer", "ActiveState") == "active"
    # auto: the first check 4 hours after the manager started, then 4 hours after each check.
    timers = manager.show("clientcheck.timer", "TimersMonotonic")
    assert "OnStartupUSec=4h" in timers and "OnUnitActiveUSec=4h" in timers

    manager.systemctl("start", "clientcheck.service")  # a oneshot: returns once the program has run
    [run] = runs(record)
    assert run["argv"] == command
    assert run["cwd"] == str(program.parent)
    assert manager.show("clientcheck.service", "Result") == "success"

    # The desktop entry, as systemd desktops start it: the generator's unit for it.
    manager.systemctl("start", "app-clientcheck@autostart.service")
    _, by_generator = runs(record, 2)
    assert by_generator["argv"] == command

    changes = autostart.uninstall("linux", env={"HOME": str(home)}, command=command, runner=autostart.run_command)
    assert [(change.path, change.action) for change in changes if change.action in ("ran", "failed")] == [
        ("systemctl --user stop clientcheck.timer", "ran"),
        ("systemctl --user daemon-reload", "ran"),
    ]
    assert manager.show("clientcheck.timer", "LoadState") == "not-found"
    assert manager.show("app-clientcheck@autostart.service", "LoadState") == "not-found"
    assert sorted(path.name for path in home.rglob("*")) == [".config"]


def test_a_real_user_manager_picks_up_the_system_wide_install(user_manager, tmp_path: Path):
    """--system, staged, then seen by a user's manager as /etc/systemd/user and /etc/xdg/autostart."""
    stage = tmp_path / "stage"
    (stage / "etc/systemd/user").mkdir(parents=True)
    (stage / "etc/xdg/autostart").mkdir(parents=True)
    (stage / "usr/lib/systemd/user").mkdir(parents=True)
    record = tmp_path / "runs.jsonl"
    program = fake_program(tmp_path / "opt" / "clientcheck" / "bin", record)
    command = [str(program), "login"]
    autostart.install("linux", system=True, env={}, command=command, root=str(stage))
    home = tmp_path / "home"
    home.mkdir()
    manager = user_manager(home, stage / "etc")
    assert manager.show("clientcheck.timer", "UnitFileState") == "enabled"
    assert manager.show("clientcheck.timer", "ActiveState") == "active"  # started with timers.target at login
    # Debian links /etc/xdg/systemd/user (searched first) to /etc/systemd/user.
    assert manager.show("clientcheck.timer", "FragmentPath") in (
        "/etc/systemd/user/clientcheck.timer",
        "/etc/xdg/systemd/user/clientcheck.timer",
    )
    manager.systemctl("start", "clientcheck.service")
    manager.systemctl("start", "app-clientcheck@autostart.service")
    assert [run["argv"] for run in runs(record, 2)] == [command, command]
