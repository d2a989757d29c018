"""clientcheck autostart, the parts every OS shares: which command runs, idempotent install, an uninstall
that removes exactly what install wrote, per-user and system paths, switching Linux methods, files of the
same name that someone else wrote, and --system without the rights.

The formats themselves are checked against real parsers in test_autostart_linux.py, _macos.py and
_windows.py.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import clientcheck
from clientcheck import autostart
from clientcheck.autostart import templates, windows
from clientcheck.errors import ExitStatus, UsageError
from conftest import missing

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "agent" / "clientcheck" / "data" / "autostart"

LINUX_COMMAND = ["/opt/clientcheck/bin/clientcheck", "login"]
MACOS_COMMAND = ["/Library/Frameworks/Python.framework/Versions/3.12/bin/python3", "-m", "clientcheck", "login"]
WINDOWS_COMMAND = ["C:\\Program Files\\Python312\\pythonw.exe", "-m", "clientcheck", "login"]

# What a Windows 11 session's environment holds (the parts we read), for a user with an accented name.
WINDOWS_ENV = {
    "USERNAME": "jürgen",
    "USERDOMAIN": "CONTOSO",
    "APPDATA": "C:\\Users\\jürgen\\AppData\\Roaming",
    "LOCALAPPDATA": "C:\\Users\\jürgen\\AppData\\Local",
    "ProgramData": "C:\\ProgramData",
    "SystemRoot": "C:\\WINDOWS",
}


def tree(root: Path) -> dict[str, str]:
    """Every file, link and folder below ``root``, with what it is: to compare a tree before and after."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
            found[str(path.relative_to(root))] = kind
    return found


def linux_machine(root: Path, *, systemd: bool = True) -> dict[str, str]:
    """A staging tree shaped like a Debian desktop: a home, /etc/xdg/autostart, and systemd if asked (its
    user and system unit folders)."""
    (root / "home/ada/.config").mkdir(parents=True)
    (root / "etc/xdg/autostart").mkdir(parents=True)
    if systemd:
        for folder in ("usr/lib/systemd/user", "usr/lib/systemd/system", "etc/systemd/user", "etc/systemd/system"):
            (root / folder).mkdir(parents=True)
    return {"HOME": "/home/ada"}


CASES = [
    pytest.param("linux", LINUX_COMMAND, id="linux"),
    pytest.param("macos", MACOS_COMMAND, id="macos"),
    pytest.param("windows", WINDOWS_COMMAND, id="windows"),
]


def machine(platform: str, root: Path) -> dict[str, str]:
    if platform == "linux":
        return linux_machine(root)
    if platform == "macos":
        (root / "Users/ada/Library").mkdir(parents=True)
        (root / "Library/LaunchAgents").mkdir(parents=True)
        (root / "Library/LaunchDaemons").mkdir(parents=True)
        return {"HOME": "/Users/ada"}
    (root / "Users/jürgen/AppData/Local").mkdir(parents=True)
    (root / "Users/jürgen/AppData/Roaming/Microsoft/Windows/Start Menu/Programs").mkdir(parents=True)
    (root / "ProgramData/Microsoft/Windows/Start Menu/Programs").mkdir(parents=True)
    return dict(WINDOWS_ENV)


# --- the command that runs at login ------------------------------------------------------------------


def test_default_command_prefers_the_console_script_next_to_the_interpreter(tmp_path: Path):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python3"
    python.touch()
    assert autostart.default_command("linux", str(python)) == [str(python), "-m", "clientcheck", "login"]
    (bin_dir / "clientcheck").touch()
    assert autostart.default_command("linux", str(python)) == [str(bin_dir / "clientcheck"), "login"]
    assert autostart.default_command("macos", str(python)) == [str(bin_dir / "clientcheck"), "login"]


def test_default_command_on_windows_is_pythonw_and_never_the_console_script():
    python = "C:\\Users\\jürgen\\AppData\\Local\\Programs\\Python\\Python312\\python.exe"
    pythonw = "C:\\Users\\jürgen\\AppData\\Local\\Programs\\Python\\Python312\\pythonw.exe"
    present = {
        python,
        pythonw,
        "C:\\Users\\jürgen\\AppData\\Local\\Programs\\Python\\Python312\\Scripts\\clientcheck.exe",
    }
    assert autostart.default_command("windows", python, exists=present.__contains__) == [
        pythonw,
        "-m",
        "clientcheck",
        "login",
    ]
    # No pythonw.exe (an embeddable Python without it): python.exe, which is still an absolute path.
    assert autostart.default_command("windows", python, exists={python}.__contains__)[0] == python


def test_default_command_of_this_interpreter_is_absolute():
    command = autostart.default_command()
    assert os.path.isabs(command[0]) and command[-1] == "login"


@pytest.mark.parametrize(
    ("platform", "command"),
    [
        ("linux", ["clientcheck", "login"]),
        ("macos", ["python3", "-m", "clientcheck", "login"]),
        ("windows", ["pythonw.exe", "-m", "clientcheck", "login"]),
        ("windows", ["/usr/bin/python3", "-m", "clientcheck", "login"]),
        ("linux", []),
        ("linux", ["/usr/bin/clientcheck", "lo\0gin"]),
    ],
)
def test_a_command_that_is_not_an_absolute_path_is_refused(platform: str, command: list[str], tmp_path: Path):
    with pytest.raises(UsageError) as caught:
        autostart.install(platform, env={"HOME": "/home/ada"}, command=command, root=str(tmp_path))
    assert caught.value.exit_status == ExitStatus.USAGE
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("method", ["xdg", "systemd"])
def test_the_linux_methods_are_refused_elsewhere(method: str, tmp_path: Path):
    with pytest.raises(UsageError, match="is for Linux"):
        autostart.install("macos", method=method, env={"HOME": "/Users/ada"}, command=MACOS_COMMAND, root=str(tmp_path))


def test_unknown_platform_and_method_are_usage_errors(tmp_path: Path):
    with pytest.raises(UsageError, match="unknown platform"):
        autostart.status("haiku", command=LINUX_COMMAND, env={"HOME": "/home/ada"})
    with pytest.raises(UsageError, match="unknown autostart method"):
        autostart.status("linux", method="cron", command=LINUX_COMMAND, env={"HOME": "/home/ada"})


def test_a_missing_staging_root_is_a_usage_error(tmp_path: Path):
    with pytest.raises(UsageError, match="is not a folder"):
        autostart.install("linux", env={"HOME": "/home/ada"}, command=LINUX_COMMAND, root=str(tmp_path / "nope"))


# --- templates -----------------------------------------------------------------------------------------


def test_templates_are_read_from_the_package_and_are_the_source_trees_and_have_no_package_marker():
    # Editable or installed from the wheel (as CI installs it), the package reads its own data/autostart,
    # which holds the source tree's files.
    found = Path(templates.TEMPLATE_DIR)
    assert found == Path(clientcheck.__file__).parent / "data" / "autostart"
    for template in TEMPLATES.iterdir():
        assert (found / template.name).read_bytes() == template.read_bytes()
    assert sorted(path.name for path in TEMPLATES.iterdir()) == [
        "clientcheck-check-now.desktop",
        "clientcheck-machine-task.xml",
        "clientcheck-machine.service",
        "clientcheck-machine.timer",
        "clientcheck-task.xml",
        "clientcheck.desktop",
        "clientcheck.service",
        "clientcheck.timer",
        "org.clientcheck.agent.plist",
        "org.clientcheck.machine.plist",
    ]
    # An __init__.py anywhere in packaging/ would shadow the "packaging" library.
    assert not list((REPO / "packaging").rglob("__init__.py"))


def test_substitution_is_one_pass_and_checks_both_sides():
    assert templates.substitute("a=${a} b=${b}", {"a": "${b}", "b": "$1"}) == "a=${b} b=$1"
    with pytest.raises(templates.TemplateError, match=r"no value for \$\{b\}"):
        templates.substitute("${a}${b}", {"a": "x"})
    with pytest.raises(templates.TemplateError, match="no place for c"):
        templates.substitute("${a}", {"a": "x", "c": "y"})


def test_every_template_placeholder_is_filled(tmp_path: Path):
    for platform, command in (("linux", LINUX_COMMAND), ("macos", MACOS_COMMAND), ("windows", WINDOWS_COMMAND)):
        root = tmp_path / platform
        root.mkdir()
        autostart.install(platform, env=machine(platform, root), command=command, root=str(root))
        for path, kind in tree(root).items():
            if kind == "file":
                data = (root / path).read_bytes()
                text = data.decode("utf-16") if data.startswith(b"\xff\xfe") else data.decode("utf-8", "replace")
                assert "${" not in text, path


# --- install, again, uninstall ------------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "command"), CASES)
@pytest.mark.parametrize("system", [False, True], ids=["user", "system"])
def test_install_is_idempotent_and_uninstall_leaves_the_tree_as_it_was(
    platform: str, command: list[str], system: bool, tmp_path: Path
):
    env = machine(platform, tmp_path)
    before = tree(tmp_path)
    first = autostart.install(platform, system=system, env=env, command=command, root=str(tmp_path))
    written = {change.path: change.action for change in first if change.action != "skipped"}
    assert written and set(written.values()) == {"installed"}
    assert all(Path(path).is_relative_to(tmp_path) for path in written)
    statuses = autostart.status(platform, system=system, env=env, command=command, root=str(tmp_path))
    if platform == "windows":  # the task's registration cannot be asked about in a staging tree
        assert {item.state for item in statuses} == {"installed", "unknown"}
    else:
        assert autostart.is_installed(statuses)

    contents = {path: Path(path).read_bytes() for path in written if not Path(path).is_symlink()}
    stamps = {path: os.stat(path, follow_symlinks=False).st_mtime_ns for path in written}
    again = autostart.install(platform, system=system, env=env, command=command, root=str(tmp_path))
    assert {change.path: change.action for change in again if change.action != "skipped"} == dict.fromkeys(
        written, "unchanged"
    )
    assert "already installed: " in autostart.describe(again)
    assert {path: Path(path).read_bytes() for path in contents} == contents
    assert {path: os.stat(path, follow_symlinks=False).st_mtime_ns for path in written} == stamps  # not rewritten

    removed = autostart.uninstall(platform, system=system, env=env, command=command, root=str(tmp_path))
    assert {change.path for change in removed if change.action == "removed"} == set(written)
    assert tree(tmp_path) == before
    assert not any(
        item.state == "installed"
        for item in autostart.status(platform, system=system, env=env, command=command, root=str(tmp_path))
    )
    twice = autostart.uninstall(platform, system=system, env=env, command=command, root=str(tmp_path))
    assert {change.action for change in twice} <= {"absent", "skipped"}


@pytest.mark.parametrize(
    ("platform", "command", "user_paths", "system_paths"),
    [
        (
            "linux",
            LINUX_COMMAND,
            [
                "home/ada/.config/autostart/clientcheck.desktop",
                "home/ada/.config/systemd/user/clientcheck.service",
                "home/ada/.config/systemd/user/clientcheck.timer",
                "home/ada/.config/systemd/user/timers.target.wants/clientcheck.timer",
                "home/ada/.local/share/applications/clientcheck-check-now.desktop",
            ],
            [
                "etc/xdg/autostart/clientcheck.desktop",
                "etc/systemd/user/clientcheck.service",
                "etc/systemd/user/clientcheck.timer",
                "etc/systemd/user/timers.target.wants/clientcheck.timer",
                "etc/systemd/system/clientcheck-machine.service",
                "etc/systemd/system/clientcheck-machine.timer",
                "etc/systemd/system/timers.target.wants/clientcheck-machine.timer",
                "usr/local/share/applications/clientcheck-check-now.desktop",
            ],
        ),
        (
            "macos",
            MACOS_COMMAND,
            ["Users/ada/Library/LaunchAgents/org.clientcheck.agent.plist"],
            ["Library/LaunchAgents/org.clientcheck.agent.plist", "Library/LaunchDaemons/org.clientcheck.machine.plist"],
        ),
        (
            "windows",
            WINDOWS_COMMAND,
            [
                "Users/jürgen/AppData/Local/clientcheck/autostart/clientcheck-task.xml",
                "Users/jürgen/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/clientcheck.lnk",
                "Users/jürgen/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Check for updates now.lnk",
                "Users/jürgen/AppData/Local/clientcheck/autostart/clientcheck-protocol.reg",
            ],
            [
                "ProgramData/clientcheck/autostart/clientcheck-task.xml",
                "ProgramData/Microsoft/Windows/Start Menu/Programs/clientcheck.lnk",
                "ProgramData/clientcheck/autostart/clientcheck-machine-task.xml",
                "ProgramData/Microsoft/Windows/Start Menu/Programs/Check for updates now.lnk",
                "ProgramData/clientcheck/autostart/clientcheck-protocol.reg",
            ],
        ),
    ],
    ids=["linux", "macos", "windows"],
)
def test_per_user_and_system_paths(platform, command, user_paths, system_paths, tmp_path: Path):
    env = machine(platform, tmp_path)
    for system, expected in ((False, user_paths), (True, system_paths)):
        changes = autostart.install(platform, system=system, env=env, command=command, root=str(tmp_path))
        assert [str(Path(change.path).relative_to(tmp_path)) for change in changes if change.action == "installed"] == (
            expected
        )


def test_xdg_config_home_is_honoured_and_a_relative_one_ignored(tmp_path: Path):
    linux_machine(tmp_path)
    env = {"HOME": "/home/ada", "XDG_CONFIG_HOME": "/home/ada/.local/config"}
    changes = autostart.install("linux", method="xdg", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    assert changes[0].path == str(tmp_path / "home/ada/.local/config/autostart/clientcheck.desktop")
    env["XDG_CONFIG_HOME"] = "relative/config"  # the XDG spec says: ignore it
    changes = autostart.install("linux", method="xdg", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    assert changes[0].path == str(tmp_path / "home/ada/.config/autostart/clientcheck.desktop")


def test_a_per_user_install_without_a_home_is_a_clear_error(tmp_path: Path):
    linux_machine(tmp_path)
    with pytest.raises(autostart.AutostartError, match="HOME is not set"):
        autostart.install("linux", env={}, command=LINUX_COMMAND, root=str(tmp_path))
    with pytest.raises(autostart.AutostartError, match="USERNAME"):
        autostart.install("windows", env={"APPDATA": "C:\\x", "LOCALAPPDATA": "C:\\y"}, command=WINDOWS_COMMAND)


def test_a_staging_tree_is_written_below_its_root_only(tmp_path: Path):
    """A package build writes into its staging tree, nowhere else (and, given no runner, runs nothing)."""
    for platform, command in (("linux", LINUX_COMMAND), ("macos", MACOS_COMMAND), ("windows", WINDOWS_COMMAND)):
        root = tmp_path / platform
        root.mkdir()
        env = machine(platform, root)
        for system in (False, True):
            changes = autostart.install(platform, system=system, env=env, command=command, root=str(root))
            changes += autostart.uninstall(platform, system=system, env=env, command=command, root=str(root))
            # task names and a registry key: not files
            registered = ("scheduled task", windows.KIND_MACHINE_TASK, "recheck protocol")
            assert all(Path(c.path).is_relative_to(root) for c in changes if c.kind not in registered)
            assert {c.action for c in changes if c.kind in registered} <= {"skipped"}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["linux", "macos", "windows"]


# --- Linux methods --------------------------------------------------------------------------------------


def test_auto_is_xdg_for_the_login_plus_a_timer_that_only_rechecks(tmp_path: Path):
    env = linux_machine(tmp_path)
    autostart.install("linux", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    units = tmp_path / "home/ada/.config/systemd/user"
    assert (tmp_path / "home/ada/.config/autostart/clientcheck.desktop").is_file()
    # The XDG entry is the login run: the timer's first check comes 4 hours in, so nothing runs twice.
    assert "OnStartupSec=4h\n" in (units / "clientcheck.timer").read_text()
    assert os.readlink(units / "timers.target.wants/clientcheck.timer") == "../clientcheck.timer"
    # The service has no [Install] section: only the timer starts it.
    assert "\n[Install]" not in (units / "clientcheck.service").read_text()


def test_auto_without_systemd_is_the_xdg_entry_alone(tmp_path: Path):
    env = linux_machine(tmp_path, systemd=False)
    changes = autostart.install("linux", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    assert [Path(change.path).name for change in changes] == ["clientcheck.desktop", "clientcheck-check-now.desktop"]
    assert not (tmp_path / "home/ada/.config/systemd").exists()


def test_switching_methods_removes_the_other_methods_entries(tmp_path: Path):
    env = linux_machine(tmp_path)
    home = tmp_path / "home/ada/.config"
    autostart.install("linux", method="systemd", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    assert "OnStartupSec=1min\n" in (home / "systemd/user/clientcheck.timer").read_text()  # the login run
    assert not (home / "autostart/clientcheck.desktop").exists()
    status = autostart.status("linux", method="xdg", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    assert [(Path(item.path).name, item.state, item.expected) for item in status] == [
        ("clientcheck.desktop", "missing", True),
        ("clientcheck-check-now.desktop", "installed", True),  # whatever the method
        ("clientcheck.service", "installed", False),
        ("clientcheck.timer", "installed", False),
        ("clientcheck.timer", "installed", False),
    ]
    assert not autostart.is_installed(status)
    assert "not part of this method" in autostart.describe_status(status)

    changes = autostart.install("linux", method="xdg", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    assert [(Path(change.path).name, change.action) for change in changes] == [
        ("clientcheck.service", "removed"),
        ("clientcheck.timer", "removed"),
        ("clientcheck.timer", "removed"),
        ("clientcheck.desktop", "installed"),
        ("clientcheck-check-now.desktop", "unchanged"),
    ]
    assert sorted(tree(home)) == ["autostart", "autostart/clientcheck.desktop"]  # the emptied folders went too


def test_status_tells_an_outdated_entry_from_a_current_one(tmp_path: Path):
    env = linux_machine(tmp_path)
    autostart.install("linux", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    moved = ["/usr/local/bin/clientcheck", "login"]  # reinstalled elsewhere
    states = {
        Path(item.path).name: item.state
        for item in autostart.status("linux", env=env, command=moved, root=str(tmp_path))
        if item.kind != "systemd timer enablement"
    }
    assert states == {
        "clientcheck.desktop": "differs",
        "clientcheck.service": "differs",
        "clientcheck.timer": "installed",
        "clientcheck-check-now.desktop": "differs",
    }
    changes = autostart.install("linux", env=env, command=moved, root=str(tmp_path))
    assert {Path(change.path).name: change.action for change in changes if change.action != "unchanged"} == {
        "clientcheck.desktop": "updated",
        "clientcheck.service": "updated",
        "clientcheck-check-now.desktop": "updated",
    }


def test_files_someone_else_wrote_are_never_removed(tmp_path: Path):
    env = linux_machine(tmp_path)
    autostart_dir = tmp_path / "home/ada/.config/autostart"
    autostart_dir.mkdir(parents=True)
    theirs = "[Desktop Entry]\nType=Application\nName=Theirs\nExec=/usr/bin/true\n"
    (autostart_dir / "clientcheck.desktop").write_text(theirs)
    wants = tmp_path / "home/ada/.config/systemd/user/timers.target.wants"
    wants.mkdir(parents=True)
    (wants / "clientcheck.timer").symlink_to("/usr/lib/systemd/user/clientcheck.timer")  # a packaged timer

    status = {
        Path(item.path).name + ("@" if item.kind == "systemd timer enablement" else ""): item.state
        for item in autostart.status("linux", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    }
    assert status["clientcheck.desktop"] == "foreign" and status["clientcheck.timer@"] == "foreign"
    changes = autostart.uninstall("linux", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    assert [change.action for change in changes if change.action != "absent"] == ["kept", "kept"]
    assert "left alone: " in autostart.describe(changes)

    # Nor replaced: install stops before writing anything.
    before = tree(tmp_path)
    with pytest.raises(autostart.AutostartError, match="was not written by clientcheck: not replaced") as caught:
        autostart.install("linux", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    assert caught.value.hint == "move it away if clientcheck's should take its place, then install again"
    assert tree(tmp_path) == before
    assert (autostart_dir / "clientcheck.desktop").read_text() == theirs
    assert os.readlink(wants / "clientcheck.timer") == "/usr/lib/systemd/user/clientcheck.timer"


@pytest.mark.parametrize(("platform", "command"), CASES)
def test_install_never_replaces_a_file_it_did_not_write(platform: str, command: list[str], tmp_path: Path):
    env = machine(platform, tmp_path)
    changes = autostart.install(platform, env=env, command=command, root=str(tmp_path))
    autostart.uninstall(platform, env=env, command=command, root=str(tmp_path))
    for change in changes:
        if change.kind in ("scheduled task", "systemd timer enablement", "recheck protocol"):
            continue
        path = Path(change.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"made by someone else")
        with pytest.raises(autostart.AutostartError, match="not replaced"):
            autostart.install(platform, env=env, command=command, root=str(tmp_path))
        assert path.read_bytes() == b"made by someone else"
        path.unlink()


# --- rights ---------------------------------------------------------------------------------------------


def test_system_install_without_root_names_the_fix_and_writes_nothing(nobody):
    """A real unprivileged user (nobody) installing for all users into a root-owned tree."""
    # Not in pytest's tmp_path: its parent is private to root, and nobody must be able to look in.
    stage = Path(tempfile.mkdtemp(prefix="clientcheck-autostart-"))
    try:
        stage.chmod(0o755)
        linux_machine(stage)
        before = tree(stage)
        script = (
            "import sys\n"
            "from clientcheck import autostart\n"
            "try:\n"
            f"    autostart.install('linux', system=True, env={{}}, command={LINUX_COMMAND!r}, root={str(stage)!r})\n"
            "except autostart.NeedsAdminError as error:\n"
            "    print(error.message); print(error.hint); sys.exit(error.exit_status)\n"
        )
        run = subprocess.run([*nobody.python, "-c", script], env=nobody.env, capture_output=True, text=True)
        assert run.returncode == ExitStatus.OUTPUT, run.stderr
        message, hint = run.stdout.splitlines()
        assert message == f"cannot write in {stage}/etc/xdg/autostart: permission denied"
        assert hint == "installing for all users needs root: run it with sudo"
        assert tree(stage) == before
    finally:
        shutil.rmtree(stage)


def test_windows_system_install_hint_names_an_elevated_prompt():
    error = autostart.entries.permission_error("C:\\ProgramData\\x", system=True, platform="windows")
    assert isinstance(error, autostart.NeedsAdminError)
    assert error.hint is not None and "elevated prompt" in error.hint
    user = autostart.entries.permission_error("/home/ada/.config/autostart", system=False, platform="linux")
    assert not isinstance(user, autostart.NeedsAdminError) and user.hint is None


def test_describe_is_one_line_per_change():
    changes = [
        autostart.Change("XDG autostart entry", "/etc/xdg/autostart/clientcheck.desktop", "installed"),
        autostart.Change("systemd", "systemctl --user daemon-reload", "failed", "Failed to connect to bus"),
    ]
    assert autostart.describe(changes) == (
        "installed: /etc/xdg/autostart/clientcheck.desktop (XDG autostart entry)\n"
        "failed: systemctl --user daemon-reload (systemd): Failed to connect to bus\n"
    )
    assert autostart.describe([]) == ""


def test_the_package_is_not_imported_by_a_check_run():
    """Installing autostart entries is an admin's command: a login run never loads this code."""
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, clientcheck.cli; print('clientcheck.autostart' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == "False"


def test_the_live_runner_reports_status_and_output():
    result = autostart.run_command(
        [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"]
    )
    assert result.status == 3
    assert sorted(result.output.split()) == ["err", "out"]  # both streams, in one
    absent = autostart.run_command(["/nonexistent/schtasks.exe", "/Query"])
    assert absent == autostart.CommandResult(127, "/nonexistent/schtasks.exe: not found")


def test_the_shortcut_carries_the_id_the_notifier_raises_toasts_for():
    notify = pytest.importorskip("clientcheck.notify")
    assert autostart.windows.APP_USER_MODEL_ID == notify.APP_ID


def test_the_wheel_carries_the_templates_where_the_code_looks():
    """The templates are in the package, which the wheel carries whole: nothing is copied in from elsewhere
    (test_packaging_debian checks a built wheel's files)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["packages"] == ["agent/clientcheck"]
    assert "force-include" not in wheel  # only the build hook adds files: the compiled translations
    assert "agent" in project["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    assert templates.TEMPLATE_DIR.endswith(os.path.join("clientcheck", "data", "autostart"))


def test_a_pyinstaller_build_runs_itself_windowless_where_it_can():
    from clientcheck.autostart import frozen_command

    present = {"C:\\Program Files\\clientcheck\\clientcheckw.exe", "/opt/clientcheck/clientcheckw"}
    assert frozen_command(
        "windows", "C:\\Program Files\\clientcheck\\clientcheck.exe", exists=present.__contains__
    ) == [
        "C:\\Program Files\\clientcheck\\clientcheckw.exe",
        "login",
    ]
    assert frozen_command("macos", "/opt/clientcheck/clientcheck", exists=present.__contains__) == [
        "/opt/clientcheck/clientcheckw",
        "login",
    ]
    assert frozen_command("linux", "/usr/lib/cc/clientcheck", exists=present.__contains__) == [
        "/usr/lib/cc/clientcheck",
        "login",
    ]


def test_a_fifo_or_device_where_an_entry_belongs_is_foreign_and_never_opened(tmp_path: Path):
    env = linux_machine(tmp_path)
    autostart_dir = tmp_path / "home/ada/.config/autostart"
    autostart_dir.mkdir(parents=True)
    os.mkfifo(autostart_dir / "clientcheck.desktop")  # opening it to read would wait for a writer forever
    units = tmp_path / "home/ada/.config/systemd/user"
    units.mkdir(parents=True)
    (units / "clientcheck.service").symlink_to("/dev/zero")  # a link: its target is compared, never read
    status = {
        Path(item.path).name: item.state
        for item in autostart.status("linux", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    }
    assert status["clientcheck.desktop"] == "foreign" and status["clientcheck.service"] == "foreign"
    with pytest.raises(autostart.AutostartError, match="was not written by clientcheck: not replaced"):
        autostart.install("linux", env=env, command=LINUX_COMMAND, root=str(tmp_path))
    assert stat.S_ISFIFO(os.lstat(autostart_dir / "clientcheck.desktop").st_mode)


def test_the_machine_run_only_runs_a_program_only_root_can_change(tmp_path: Path):
    # autostart install --system makes root (or SYSTEM) run the installing command every hour: a script in
    # a folder another user may write would be that user's code, run as root.
    if os.geteuid() != 0:
        missing("the machine run is installed by root")
    tmp_path.chmod(0o755)
    home = tmp_path / "home" / "alice"
    script = home / ".venv" / "bin" / "clientcheck"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    for folder in (tmp_path / "home", home, home / ".venv"):
        folder.chmod(0o755)
    autostart.refuse_untrusted_program([str(script), "login"])  # root's own, all the way up: accepted
    os.chown(home, 1000, 1000)
    with pytest.raises(autostart.AutostartError, match=rf"would run {script} as root, but {home} is owned by another"):
        autostart.refuse_untrusted_program([str(script), "login"])
    os.chown(home, 0, 0)
    script.chmod(0o777)  # the careless install under test
    with pytest.raises(autostart.AutostartError, match=r"but it is writable by every user"):
        autostart.refuse_untrusted_program([str(script), "login"])
    script.chmod(0o755)
    (home / ".venv").chmod(0o775)
    os.chown(home / ".venv", 0, 1000)
    with pytest.raises(autostart.AutostartError, match=r"is writable by group 1000"):
        autostart.refuse_untrusted_program([str(script), "login"], modules=())
