"""What could not be read never vanishes from the verdict.

A place that decides what is installed (an applications folder, a home in the run's scope, a package
database) and cannot be read makes the summary ``unknown`` (``owed`` and ``due`` still come first), is
listed under ``unreadable`` with why, and every format says so. An OS version that cannot be read is a
finding ``unknown``, never "not covered by the rules". An unprivileged run on the running machine does not
look into other users' homes: they are out of its scope, and a login on a shared machine stays quiet.

Permissions mean nothing to root, and the tests run as root in CI: the runs that must meet a closed folder
drop to an unprivileged user in a subprocess (or run as the caller, when that is not root).
"""

from __future__ import annotations

import csv
import io
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import clientcheck
from clientcheck.config.table import FORMATS
from conftest import DESIGN_EXAMPLE, FIXTURES, LINUX_FIXTURES

DEBIAN = LINUX_FIXTURES / "debian-12-desktop" / "root"
SEQUOIA = FIXTURES / "macos" / "macos-15-sequoia" / "root"
WINDOWS_11 = FIXTURES / "windows" / "windows-11-24h2"
AS_OF = "2026-11-25"


def _other_user() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return 65534, 65534
    return entry.pw_uid, entry.pw_gid


@pytest.fixture
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder the unprivileged user can enter (pytest's own are private to root), removed afterwards."""
    if os.geteuid() != 0:
        yield tmp_path_factory.mktemp("shared")
        return
    folder = Path(tempfile.mkdtemp(prefix="clientcheck-unreadable-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path, dirs, _ in os.walk(folder):
            for name in dirs:
                (Path(path) / name).chmod(0o700)
        shutil.rmtree(folder)


def _interpreter(uid: int, gid: int, env: dict[str, str]) -> str:
    """A Python the unprivileged user can start and import this clientcheck with (the test's own may live
    in a folder private to root, as pyenv's do): this one, else the system's."""
    for python in dict.fromkeys([sys.executable, *filter(None, [shutil.which("python3", path="/usr/bin:/bin")])]):
        try:
            probe = subprocess.run(
                [python, "-c", "import clientcheck.cli"], user=uid, group=gid, extra_groups=[], env=env, check=False
            )
        except PermissionError:
            continue
        if probe.returncode == 0:
            return python
    pytest.fail(f"no Python that uid {uid} can run with clientcheck (tried {sys.executable} and the system's)")


def run_unprivileged(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``clientcheck ARGS`` as a user who is not root, with ``home`` as its home and nothing else set."""
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    if os.geteuid() != 0:
        command = [sys.executable, "-m", "clientcheck", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    uid, gid = _other_user()
    os.chown(home, uid, gid)
    env["PYTHONPATH"] = str(Path(clientcheck.__file__).resolve().parents[1])  # the package under test
    command = [_interpreter(uid, gid, env), "-m", "clientcheck", *args]
    return subprocess.run(
        command, user=uid, group=gid, extra_groups=[], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def machine_copy(source: Path, shared: Path, name: str) -> Path:
    root = shared / name
    shutil.copytree(source, root, symlinks=True)
    return root


def close(path: Path) -> None:
    path.chmod(0)


# --- an applications folder that cannot be read: every format says it -------------------------------------


@pytest.fixture
def closed_mac(shared: Path) -> tuple[Path, Path]:
    """A Mac whose /Applications cannot be read, and nothing else to judge: without the folder, all is ok."""
    root = machine_copy(SEQUOIA, shared, "mac")
    shutil.rmtree(root / "Users")
    close(root / "Applications")
    home = shared / "home"
    home.mkdir()
    return root, home


def check_mac(closed_mac: tuple[Path, Path], *extra: str) -> subprocess.CompletedProcess[str]:
    root, home = closed_mac
    args = ("--root", str(root), "--platform", "macos", "--rules", str(DESIGN_EXAMPLE), "--as-of", AS_OF, *extra)
    return run_unprivileged(*args, home=home)


def test_an_unreadable_applications_folder_makes_the_report_unknown(closed_mac):
    run = check_mac(closed_mac, "--format", "json")
    assert run.returncode == 0, run.stderr  # nothing is known to be owed
    report = json.loads(run.stdout)
    assert report["summary"]["status"] == "unknown"
    assert report["unreadable"] == [
        {"path": "/Applications", "problem": "cannot read: Permission denied", "hides": "applications installed there"}
    ]
    assert "/Applications: cannot read: Permission denied" in report["warnings"]
    assert [finding["status"] for finding in report["findings"]] == ["ok"]  # macOS itself


@pytest.mark.parametrize(
    ("format_name", "status", "expected"),
    [
        ("text", 0, "Could not be read (what is there may be missing from this report):\n  - /Applications: "),
        ("nagios", 1, "CLIENTCHECK WARNING - could not read /Applications | "),
        ("jamf", 0, "<result>UNKNOWN: could not read /Applications</result>\n"),
        (
            "intune",
            0,
            '"ClientcheckStatus":"unknown","UpdatesOwed":0,"UpdatesDue":0,"DaysLeft":-1,"DueWarning":false,"Unreadable":1',
        ),
        ("prometheus", 0, "\nclientcheck_unreadable 1\n"),
        ("csv", 0, ",,/Applications,unknown,,,,,/Applications: cannot read: Permission denied;"),
        ("html", 0, "<h2>Could not be read (what is there may be missing from this report)</h2>"),
        ("ansible", 0, '"status":"unknown"'),
    ],
)
def test_every_format_says_what_could_not_be_read(closed_mac, format_name, status, expected):
    run = check_mac(closed_mac, "--format", format_name)
    assert run.returncode == status, run.stderr
    assert expected in run.stdout
    assert "All up to date" not in run.stdout and "<result>OK</result>" not in run.stdout


def test_the_text_report_does_not_call_it_up_to_date(closed_mac):
    run = check_mac(closed_mac)
    first = run.stdout.splitlines()[0]
    assert first == "Nothing required is owed on this computer (macOS 15.1.1), but some items need a look:"


def test_the_csv_row_says_what_it_is(closed_mac):
    rows = list(csv.DictReader(io.StringIO(check_mac(closed_mac, "--format", "csv").stdout, newline="")))
    assert [(row["kind"], row["name"], row["status"]) for row in rows] == [
        ("finding", "macOS", "ok"),
        ("unreadable", "/Applications", "unknown"),
    ]


def test_the_inventory_says_it_too(closed_mac):
    root, home = closed_mac
    run = run_unprivileged("inventory", "--root", str(root), "--platform", "macos", "--format", "json", home=home)
    assert run.returncode == 0, run.stderr
    assert [item["path"] for item in json.loads(run.stdout)["unreadable"]] == ["/Applications"]


def test_what_is_owed_still_comes_first(shared):
    root = machine_copy(SEQUOIA, shared, "mac")  # its users' applications folders hold an old Firefox ESR
    close(root / "Applications")
    home = shared / "home"
    home.mkdir()
    args = ("--root", str(root), "--platform", "macos", "--rules", str(DESIGN_EXAMPLE), "--as-of", AS_OF)
    run = run_unprivileged(*args, "--format", "json", home=home)
    assert run.returncode == 1
    report = json.loads(run.stdout)
    assert report["summary"]["status"] == "owed"
    assert [item["path"] for item in report["unreadable"]] == ["/Applications"]
    jamf = run_unprivileged(*args, "--format", "jamf", home=home).stdout
    assert jamf.startswith("<result>OWED: Firefox ESR 128.5.0 (needs 153.6)") and "could not read /Applications" in jamf


# --- homes: in scope on a --root tree, out of scope for an unprivileged live run --------------------------


def test_another_users_home_on_a_root_tree_is_unreadable(shared):
    root = machine_copy(DEBIAN, shared, "debian")
    (root / "home/alice").chmod(0o700)  # root's own, as a home another user cannot enter
    home = shared / "home"
    home.mkdir()
    args = ("--root", str(root), "--platform", "linux", "--rules", str(DESIGN_EXAMPLE), "--as-of", AS_OF)
    report = json.loads(run_unprivileged(*args, "--format", "json", home=home).stdout)
    assert {"path": "~/.local/share/applications", "problem": "cannot read: Permission denied"}.items() <= (
        report["unreadable"][0].items()
    )
    assert report["summary"]["status"] == "owed"  # Firefox ESR is owed, and that comes first


def test_the_users_own_applications_folder_is_in_scope(shared):
    home = shared / "home"
    applications = home / ".local/share/applications"
    applications.mkdir(parents=True)
    close(applications)
    run = run_unprivileged("--format", "json", home=home)
    assert run.returncode in (0, 1), run.stderr
    report = json.loads(run.stdout)
    assert {"path": "~/.local/share/applications", "problem": "cannot read: Permission denied"}.items() <= (
        report["unreadable"][0].items()
    )
    assert report["summary"]["status"] != "ok"


def test_other_users_homes_are_out_of_scope_of_an_unprivileged_live_run(shared):
    home = shared / "home"
    home.mkdir()
    run = run_unprivileged("--format", "json", home=home)
    assert run.returncode in (0, 1), run.stderr
    report = json.loads(run.stdout)
    # However the homes here are set (0700, 0750), an unprivileged run never looks into them.
    unreadable = [item["path"] for item in report["unreadable"]]
    assert not [path for path in unreadable if path.startswith(("~", "/home/", "/root"))]


# --- package databases ------------------------------------------------------------------------------------


def test_an_unreadable_package_database_is_named_not_blamed_on_the_packages(shared):
    root = machine_copy(DEBIAN, shared, "debian")
    (root / "var/lib/dpkg/status").chmod(0o600)
    home = shared / "home"
    home.mkdir()
    run = run_unprivileged("--root", str(root), "--platform", "linux", "--format", "json", home=home)
    report = json.loads(run.stdout)
    assert report["unreadable"] == [
        {
            "path": "/var/lib/dpkg/status",
            "problem": "cannot read: Permission denied",
            "hides": "the versions of packaged applications",
        }
    ]
    assert report["summary"]["status"] == "unknown"


# --- the OS version -----------------------------------------------------------------------------------------


def _without_build(tmp_path: Path) -> Path:
    text = (WINDOWS_11 / "registry.reg").read_bytes().decode("utf-16")
    kept = [line for line in text.splitlines() if not line.lower().startswith('"currentbuild')]
    export = tmp_path / "registry.reg"
    export.write_bytes("\r\n".join(kept).encode("utf-16"))
    return export


def test_a_windows_version_that_cannot_be_read_is_unknown_not_uncovered(run_cli, tmp_path):
    export = str(_without_build(tmp_path))
    report = run_cli("--registry", export, "--root", str(WINDOWS_11 / "root"), "--format", "json").json()
    (os_finding,) = [finding for finding in report["findings"] if finding["product"] == "windows"]
    assert os_finding["status"] == "unknown"
    assert os_finding["message"].startswith("The version of Windows could not be read: ")
    text = run_cli("--registry", export, "--root", str(WINDOWS_11 / "root")).out
    assert "Not covered by the rules" not in text
    assert "  - Windows: The version of Windows could not be read: " in text


@pytest.mark.parametrize("format_name", FORMATS)
def test_every_format_renders_an_unreadable_windows_version(run_cli, tmp_path, format_name):
    result = run_cli("--registry", str(_without_build(tmp_path)), "--format", format_name)
    assert result.status in (0, 1, 2), result.err
    assert "internal error" not in result.err
