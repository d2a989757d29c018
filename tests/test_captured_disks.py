"""A captured disk (--root) is read as the machine would read it, and nothing outside it is ever read: a
Windows InstallLocation with ``..`` components, or a symlink inside the capture (absolute or relative, to a
folder, a version folder, a program, a plist), never reaches the folders of the machine running the check.
Each test makes a host folder that would change the verdict if it were read (a Chrome version folder named
999.0.0.0 made Chrome "up to date"), and watches every open and folder listing (Python's audit hooks) to
prove it is never read."""

from __future__ import annotations

import os
import plistlib
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from clientcheck.inspect import inspect_machine

CHROME_CLIENT = (
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Google\\Update\\Clients\\{8A69D345-D564-463c-AFF1-A69D9E530F96}"
)
UNINSTALL = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
USER = "HKEY_USERS\\S-1-5-21-2419357628-1493862211-3927542107-1001"
USER_UNINSTALL = f"{USER}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
CURRENT_VERSION = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
LAUNCHER = Path(pytest.importorskip("pip").__file__).parent / "_vendor" / "distlib" / "t64.exe"  # a real PE file

_watched: list[str] = []
_touched: list[str] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _watched or event not in ("open", "os.listdir", "os.scandir") or not args:
        return
    path = args[0]
    if isinstance(path, (str, bytes, os.PathLike)):
        text = os.path.abspath(os.fsdecode(path))
        if any(text == folder or text.startswith(folder + os.sep) for folder in _watched):
            _touched.append(f"{event} {text}")


sys.addaudithook(_audit)  # hooks stay for the process's life: this one does nothing unless a test watches


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A folder of the machine running the check, outside every capture."""
    folder = tmp_path / "host"
    folder.mkdir()
    return folder


@contextmanager
def watching(folder: Path) -> Iterator[list[str]]:
    """The opens and folder listings of anything in ``folder`` while the block runs."""
    _watched.append(str(folder))
    _touched.clear()
    try:
        yield _touched
    finally:
        _watched.remove(str(folder))


# Windows -------------------------------------------------------------------------------------------------


def _reg(path: Path, keys: dict[str, dict[str, str]]) -> str:
    """A registry export as regedit writes it: UTF-16LE with a BOM, CRLF line ends, doubled backslashes."""
    keys = {
        CURRENT_VERSION: {"CurrentBuild": "26100", "ProductName": "Windows 10 Pro", "InstallationType": "Client"},
        **keys,
    }
    lines = ["Windows Registry Editor Version 5.00", ""]
    for key, values in keys.items():
        lines.append(f"[{key}]")
        lines += [f'"{name}"="{value.replace(chr(92), chr(92) * 2)}"' for name, value in values.items()]
        lines.append("")
    path.write_bytes(b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le"))
    return str(path)


def _chrome(location: str, version: str = "120.0.6099.109") -> dict[str, dict[str, str]]:
    return {
        f"{UNINSTALL}\\Google Chrome": {
            "DisplayName": "Google Chrome",
            "DisplayVersion": version,
            "InstallLocation": location,
        },
        CHROME_CLIENT: {"pv": version},
    }


@pytest.fixture
def disk(tmp_path: Path, host: Path) -> Path:
    (host / "Google/Chrome/Application/999.0.0.0").mkdir(parents=True)
    (tmp_path / "disk/Windows/System32").mkdir(parents=True)
    return tmp_path / "disk"


def _windows(disk: Path, keys: dict[str, dict[str, str]]):
    """The Windows machine on ``disk``, inspected while every read of the host folder beside it is watched."""
    export = _reg(disk.parent / "registry.reg", keys)
    with watching(disk.parent / "host") as touched:
        inventory = inspect_machine("windows", str(disk), env={}, registry=export)
    assert touched == [], f"read outside the captured disk: {touched}"
    return inventory


def _only(inventory, product: str):
    (item,) = [item for item in inventory.software if item.product == product]
    return item


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda disk, host: (disk / "Program Files").mkdir(), id="dot-dot-in-install-location"),
        pytest.param(
            lambda disk, host: (
                (disk / "Program Files/Google/Chrome").mkdir(parents=True)
                or (disk / "Program Files/Google/Chrome/Application").symlink_to(host / "Google/Chrome/Application")
            ),
            id="absolute-symlink",
        ),
        pytest.param(
            lambda disk, host: (
                (disk / "Program Files/Google").mkdir(parents=True)
                or (disk / "Program Files/Google/Chrome").symlink_to("../../../host/Google/Chrome")
            ),
            id="relative-symlink-out",
        ),
        pytest.param(
            lambda disk, host: (
                (disk / "program files/GOOGLE/chrome/application").mkdir(parents=True)
                or (disk / "program files/GOOGLE/chrome/application/999.0.0.0").symlink_to(
                    host / "Google/Chrome/Application/999.0.0.0"
                )
            ),
            id="version-folder-symlink",
        ),
    ],
)
def test_a_windows_install_location_never_leads_out_of_the_capture(disk: Path, host: Path, make):
    make(disk, host)
    location = "C:\\Program Files\\Google\\Chrome\\Application"
    if not (disk / "Program Files/Google").exists() and not (disk / "program files").exists():
        location = "C:\\Program Files\\..\\..\\host\\Google\\Chrome\\Application"  # ".." once too many: the host
    inventory = _windows(disk, _chrome(location))
    chrome = _only(inventory, "chrome")
    assert str(chrome.version) == "120.0.6099.109"  # Google Update's registration; never the host's 999


def test_a_junction_inside_the_capture_is_followed_inside_it(disk: Path, host: Path):
    # A Windows junction, as a Linux mount shows it: an absolute symlink, meant from the disk's own root.
    (disk / "Chrome/Application/131.0.6778.86").mkdir(parents=True)
    (disk / "Program Files/Google/Chrome").mkdir(parents=True)
    (disk / "Program Files/Google/Chrome/Application").symlink_to("/Chrome/Application")
    chrome = _only(_windows(disk, _chrome("C:\\Program Files\\Google\\Chrome\\Application")), "chrome")
    assert (str(chrome.version), chrome.source) == ("131.0.6778.86", "registry (version folder)")


def test_a_program_file_linked_out_of_the_capture_is_not_read(disk: Path, host: Path):
    shutil.copy(LAUNCHER, host / "SumatraPDF.exe")
    folder = disk / "Users/alex/AppData/Local/SumatraPDF"
    folder.mkdir(parents=True)
    (folder / "SumatraPDF.exe").symlink_to(host / "SumatraPDF.exe")
    entry = {
        f"{USER_UNINSTALL}\\SumatraPDF": {
            "DisplayName": "SumatraPDF",
            "InstallLocation": "C:\\Users\\alex\\AppData\\Local\\SumatraPDF",
        }
    }
    sumatra = _only(_windows(disk, entry), "sumatrapdf")
    assert sumatra.version is None  # the host's executable (version 1.1.0.14) is not this machine's
    os.unlink(folder / "SumatraPDF.exe")
    shutil.copy(LAUNCHER, folder / "SumatraPDF.exe")  # the same file really on the disk: read
    assert str(_only(_windows(disk, entry), "sumatrapdf").version) == "1.1.0.14"


def test_a_fifo_in_place_of_a_program_file_is_not_opened(disk: Path, host: Path):
    folder = disk / "Program Files/SumatraPDF"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "SumatraPDF.exe")
    entry = {
        f"{UNINSTALL}\\SumatraPDF": {"DisplayName": "SumatraPDF", "InstallLocation": "C:\\Program Files\\SumatraPDF"}
    }
    assert _only(_windows(disk, entry), "sumatrapdf").version is None


@pytest.mark.parametrize(
    "location",
    [
        "\\\\fileserver\\apps\\Google\\Chrome\\Application",
        "D:\\Google\\Chrome\\Application",
        "%ProgramFiles%\\Google\\Chrome\\Application",
        "C:\\PROGRA~1\\Google\\Chrome\\Application",
        "Google\\Chrome\\Application",
    ],
    ids=["network-share", "other-drive", "unexpanded-variable", "short-name", "relative"],
)
def test_a_path_that_cannot_be_looked_at_is_not_judged_missing(disk: Path, host: Path, location: str):
    chrome = _only(_windows(disk, _chrome(location)), "chrome")
    assert str(chrome.version) == "120.0.6099.109"


# macOS ---------------------------------------------------------------------------------------------------


def _plist(path: Path, values: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(plistlib.dumps(values))


@pytest.fixture
def mac(tmp_path: Path, host: Path) -> Path:
    """A Mac whose every file of interest is a link to the host's copy, which says something else."""
    _plist(host / "SystemVersion.plist", {"ProductName": "macOS", "ProductVersion": "99.0", "ProductBuildVersion": "1"})
    for app, bundle_id in (("Google Chrome.app", "com.google.Chrome"), ("Firefox.app", "org.mozilla.firefox")):
        _plist(
            host / app / "Contents/Info.plist",
            {"CFBundleIdentifier": bundle_id, "CFBundleShortVersionString": "999.0.0.0", "KSVersion": "999.0.0.0"},
        )
    _plist(
        host / "Preferences/com.apple.LaunchServices/com.apple.launchservices.secure.plist",
        {"LSHandlers": [{"LSHandlerContentType": "com.adobe.pdf", "LSHandlerRoleAll": "com.google.Chrome"}]},
    )
    root = tmp_path / "mac"
    (root / "System/Library/CoreServices").mkdir(parents=True)
    (root / "System/Library/CoreServices/SystemVersion.plist").symlink_to(host / "SystemVersion.plist")
    (root / "Applications").mkdir()
    (root / "Applications/Google Chrome.app").symlink_to(host / "Google Chrome.app")
    (root / "Applications/Firefox.app").symlink_to("../../host/Firefox.app")
    (root / "Users/ann/Library").mkdir(parents=True)
    (root / "Users/ann/Library/Preferences").symlink_to("/../../../" + str(host / "Preferences"))
    (root / "System/Volumes").mkdir(parents=True)
    (root / "System/Volumes/Preboot").symlink_to(host)
    return root


def _mac(root: Path, host: Path):
    with watching(host) as touched:
        inventory = inspect_machine("macos", str(root), env={})
    assert touched == [], f"read outside the captured disk: {touched}"
    return inventory


def test_a_mac_capture_never_reads_the_host(mac: Path, host: Path):
    inventory = _mac(mac, host)
    assert inventory.os.version is None and "SystemVersion.plist" in (inventory.os.problem or "")
    found = {item.product: item for item in inventory.software}
    assert sorted(found) == ["chrome", "firefox"]  # found by their bundle names: not dropped
    assert all(item.version is None and item.problem for item in found.values())  # unknown, never 999
    assert inventory.default_pdf is None


def test_a_mac_capture_reads_what_its_links_lead_to_inside_it(mac: Path, host: Path):
    # The same links, now with the files they name present inside the capture: read, as the Mac would.
    for link in ("Applications/Google Chrome.app",):
        target = mac / str(host).lstrip("/") / "Google Chrome.app/Contents/Info.plist"
        _plist(target, {"CFBundleIdentifier": "com.google.Chrome", "CFBundleShortVersionString": "131.0.6778.86"})
        assert (mac / link).is_symlink()
    inventory = _mac(mac, host)
    assert {item.product: str(item.version) for item in inventory.software}["chrome"] == "131.0.6778.86"


def test_a_windows_root_finds_names_without_regard_to_case_and_stops_dot_dot_at_its_top(tmp_path: Path):
    from clientcheck.inspect.fsroot import Root

    (tmp_path / "disk/Program Files/Google").mkdir(parents=True)
    (tmp_path / "disk/Program Files/google").mkdir()  # a case-sensitive copy may hold both: the first sorted
    (tmp_path / "disk/Users").mkdir()
    (tmp_path / "disk/Users/Public").symlink_to("../../..")  # a relative link climbing out
    disk = Root(str(tmp_path / "disk"), fold_case=True)
    assert disk.host_path("/PROGRAM FILES/GOOGLE") == str(tmp_path / "disk/Program Files/Google")
    assert disk.host_path("/program files/google") == str(tmp_path / "disk/Program Files/google")
    assert disk.host_path("/Program Files/../../../..") == str(tmp_path / "disk") + "/"
    assert disk.host_path("/users/public/users") == str(tmp_path / "disk/Users")  # the link, inside the disk
    assert disk.host_path("/Program Files/Missing/x") == str(tmp_path / "disk/Program Files/Missing/x")


# Which OS a captured tree is -----------------------------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("root", "platform", "os_id"),
    [
        (FIXTURES / "macos/macos-15-sequoia/root", "macos", "macos"),
        (FIXTURES / "macos/broken-plists/root", "macos", "macos"),
        (FIXTURES / "linux/debian-12-desktop/root", "linux", "debian"),
        (FIXTURES / "linux/arch-rolling/root", "linux", "arch"),
        (FIXTURES / "linux/broken-osrelease/root", "linux", None),
    ],
    ids=lambda value: value.parent.name if isinstance(value, Path) else str(value),
)
def test_the_os_of_a_root_is_told_from_its_files(run_cli, root: Path, platform: str, os_id: str | None):
    result = run_cli("--root", str(root), "--format", "json")
    assert result.status in (0, 1), result.err
    report = result.json()
    assert report["os"]["platform"] == platform
    if os_id is not None:
        assert report["os"]["id"] == os_id


def test_a_mac_with_its_etc_link_is_still_a_mac(run_cli, tmp_path: Path):
    root = tmp_path / "mac"
    _plist(root / "System/Library/CoreServices/SystemVersion.plist", {"ProductVersion": "15.1.1"})
    (root / "private/etc").mkdir(parents=True)
    (root / "private/etc/hosts").write_text("127.0.0.1 localhost\n")
    (root / "etc").symlink_to("private/etc")  # as on every Mac; and no os-release behind it
    (root / "usr/lib").mkdir(parents=True)
    (root / "usr/lib/os-release").symlink_to("/etc/os-release")  # this host's file, were it followed out
    result = run_cli("inventory", "--root", str(root), "--format", "json")
    assert (result.status, result.json()["os"]["platform"]) == (0, "macos")


def test_a_windows_disk_is_recognised_and_asks_for_its_registry(run_cli, tmp_path: Path):
    (tmp_path / "disk/WINDOWS/system32/config").mkdir(parents=True)  # found without regard to case
    result = run_cli("--root", str(tmp_path / "disk"))
    assert result.status == 2
    assert (
        result.err.splitlines()[0]
        == "clientcheck: error: a Windows --root tree needs its registry: add --registry FILE.reg"
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        pytest.param(
            ["home/alice/notes.txt"],
            "cannot tell which OS this tree is (no etc/os-release, System/Library/CoreServices/SystemVersion.plist "
            "or Windows/System32 in it)",
            id="nothing-to-tell",
        ),
        pytest.param(
            ["etc/os-release", "System/Library/CoreServices/SystemVersion.plist"],
            "the tree has marks of more than one OS: linux (etc/os-release); "
            "macos (System/Library/CoreServices/SystemVersion.plist)",
            id="two-systems",
        ),
    ],
)
def test_a_tree_whose_os_cannot_be_told_is_an_error_that_suggests_platform(
    run_cli, tmp_path: Path, files: list[str], message: str
):
    for name in files:
        (tmp_path / "tree" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "tree" / name).write_text("")
    for command in ("check", "inventory"):
        result = run_cli(command, "--root", str(tmp_path / "tree"))
        assert result.status == 2
        assert result.err == (
            f"clientcheck: error: --root {tmp_path / 'tree'}: {message}\n"
            "clientcheck: hint: add --platform linux|macos|windows\n"
        )
    assert run_cli("--root", str(tmp_path / "tree"), "--platform", "linux", "--format", "json").status in (0, 1)
