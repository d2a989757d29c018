"""Windows detection rules, each on a small registry (as ExportedRegistry holds a parsed export) and, where
files matter, a disk tree built in the test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clientcheck.catalog import load_catalog
from clientcheck.inspect.registry import ExportedRegistry
from clientcheck.inspect.windows import WindowsInspector

HKLM = "HKEY_LOCAL_MACHINE\\SOFTWARE"
UNINSTALL = f"{HKLM}\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
UNINSTALL_32 = f"{HKLM}\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
SID = "S-1-5-21-3623811015-3361044348-30300820-1013"
USER = f"HKEY_USERS\\{SID}"
CURRENT = f"{HKLM}\\Microsoft\\Windows NT\\CurrentVersion"
PDF = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FileExts\\.pdf"


def _registry(keys: dict[str, dict[str, object]]) -> ExportedRegistry:
    keys = {
        CURRENT: {
            "CurrentBuild": "26100",
            "UBR": 2454,
            "CurrentMajorVersionNumber": 10,
            "CurrentMinorVersionNumber": 0,
            "ProductName": "Windows 10 Pro",
            "InstallationType": "Client",
            "DisplayVersion": "24H2",
        },
        **keys,
    }
    return ExportedRegistry(
        {path: {name: (1, value) for name, value in values.items()} for path, values in keys.items()}
    )


def _inventory(keys: dict[str, dict[str, object]], disk: Path | None = None):
    return WindowsInspector(_registry(keys), load_catalog(), str(disk) if disk else None).inventory()


def _app(name: str, version: str | None, **extra: object) -> dict[str, object]:
    values: dict[str, object] = {"DisplayName": name, **extra}
    if version is not None:
        values["DisplayVersion"] = version
    return values


def _found(inventory) -> set[tuple[str, str | None, str]]:
    return {(item.product, item.track, str(item.version)) for item in inventory.software}


def test_channels_and_helpers_that_share_a_browser_name():
    inventory = _inventory(
        {
            f"{UNINSTALL}\\Google Chrome": _app("Google Chrome", "120.0.6099.109"),
            f"{HKLM}\\WOW6432Node\\Google\\Update\\Clients\\{{8A69D345-D564-463c-AFF1-A69D9E530F96}}": {
                "pv": "120.0.6099.109"
            },
            f"{UNINSTALL}\\Google Chrome Beta": _app("Google Chrome Beta", "160.0.8200.3"),
            f"{UNINSTALL}\\Microsoft EdgeWebView": _app("Microsoft Edge WebView2 Runtime", "131.0.2903.70"),
            f"{UNINSTALL}\\Microsoft Edge Update": _app("Microsoft Edge Update", "1.3.195.35"),
            f"{UNINSTALL}\\{{AC76BA86-0000-0000-0000-6028747ADE01}}": _app(
                "Adobe Acrobat Customization Wizard DC", "24.1"
            ),
            f"{UNINSTALL}\\Mozilla Maintenance Service": _app("Mozilla Maintenance Service", "132.0.2"),
            f"{UNINSTALL}\\Opera GX": _app("Opera GX Stable", "114.0.5282.222"),
        }
    )
    assert _found(inventory) == {
        ("chrome", None, "120.0.6099.109"),  # the stable channel keeps its own, older version
        ("chrome", "beta", "160.0.8200.3"),
        ("opera", "gx", "114.0.5282.222"),
    }


def test_firefox_release_and_esr_side_by_side_stay_apart():
    inventory = _inventory(
        {
            f"{UNINSTALL}\\Mozilla Firefox": _app(
                "Mozilla Firefox (x64 en-US)", "160.0", InstallLocation="C:\\Program Files\\Mozilla Firefox"
            ),
            f"{UNINSTALL}\\Mozilla Firefox ESR": _app(
                "Mozilla Firefox ESR (x64 en-US)", "128.3.0", InstallLocation="C:\\Program Files\\Mozilla Firefox ESR"
            ),
        }
    )
    assert _found(inventory) == {("firefox", "release", "160.0"), ("firefox", "esr", "128.3.0")}


def test_brave_on_windows_writes_chromium_major_before_its_version():
    inventory = _inventory({f"{UNINSTALL}\\BraveSoftware Brave-Browser": _app("Brave", "131.1.73.97")})
    assert _found(inventory) == {("brave", None, "1.73.97")}


@pytest.mark.parametrize(
    ("display_name", "entitlement", "product"),
    [
        pytest.param("Adobe Acrobat (64-bit)", None, "acrobat-reader", id="unified-reader"),
        pytest.param("Adobe Acrobat (64-bit)", 300, "acrobat", id="unified-pro"),
        pytest.param("Adobe Acrobat DC (64-bit)", None, "acrobat-reader", id="older-unified-name-reader"),
        pytest.param("Adobe Acrobat DC (64-bit)", 200, "acrobat", id="older-unified-name-standard"),
        pytest.param("Adobe Acrobat Reader DC MUI", None, "acrobat-reader", id="reader-mui"),
        pytest.param("Adobe Acrobat 2020", None, "acrobat", id="classic-2020"),
    ],
)
def test_acrobat_reader_or_acrobat(display_name: str, entitlement: int | None, product: str):
    keys: dict[str, dict[str, object]] = {f"{UNINSTALL}\\Adobe": _app(display_name, "24.004.20219")}
    if entitlement is not None:
        keys[f"{USER}\\Software\\Adobe\\Adobe Acrobat\\DC\\AVEntitlement"] = {"iEntitlementLevel": entitlement}
    (installation,) = _inventory(keys).software
    assert (installation.product, installation.track) == (product, "continuous")


def test_userchoicelatest_keeps_its_progid_in_a_subkey_and_wins():
    inventory = _inventory(
        {
            f"{UNINSTALL}\\Adobe": _app("Adobe Acrobat Reader", "24.004.20219"),
            f"{USER}\\{PDF}\\UserChoice": {"ProgId": "Acrobat.Document.DC"},
            f"{USER}\\{PDF}\\UserChoiceLatest": {"Hash": "x"},
            f"{USER}\\{PDF}\\UserChoiceLatest\\ProgId": {"ProgId": "MSEdgePDF"},
        }
    )
    assert inventory.default_pdf == "edge"


def test_entra_id_users_are_users():
    entra = "HKEY_USERS\\S-1-12-1-1234567890-1234567890-1234567890-1234567890"
    inventory = _inventory(
        {
            f"{entra}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Chromium": _app(
                "Chromium", "131.0.6778.86"
            )
        }
    )
    assert [(item.product, item.scope) for item in inventory.software] == [("chromium", "user")]


def test_the_beacon_is_only_a_fallback():
    # A stale per-user Chrome 120 whose beacon says 160 (written by a machine-wide Chrome the user ran).
    inventory = _inventory(
        {
            f"{USER}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Google Chrome": _app(
                "Google Chrome", "120.0.6099.109"
            ),
            f"{USER}\\Software\\Google\\Update\\Clients\\{{8A69D345-D564-463c-AFF1-A69D9E530F96}}": {
                "pv": "120.0.6099.109"
            },
            f"{USER}\\Software\\Google\\Chrome\\BLBeacon": {"version": "160.0.8200.10"},
        }
    )
    assert _found(inventory) == {("chrome", None, "120.0.6099.109")}


def test_a_disk_version_outranks_the_registry(tmp_path: Path):
    (tmp_path / "Program Files/Google/Chrome/Application/131.0.6778.86").mkdir(parents=True)
    inventory = _inventory(
        {
            f"{UNINSTALL_32}\\Google Chrome": _app(
                "Google Chrome", "130.0.6723.117", InstallLocation="C:\\Program Files\\Google\\Chrome\\Application"
            ),
        },
        disk=tmp_path,
    )
    (chrome,) = inventory.software
    assert (str(chrome.version), chrome.source) == ("131.0.6778.86", "registry (version folder)")


def test_paths_on_a_captured_disk_match_without_case_and_other_drives_are_not_judged_missing(tmp_path: Path):
    (tmp_path / "program files/google/chrome/application/131.0.6778.86").mkdir(parents=True)
    inventory = _inventory(
        {
            f"{UNINSTALL_32}\\Google Chrome": _app(
                "Google Chrome", "130.0.6723.117", InstallLocation="C:\\Program Files\\Google\\Chrome\\Application"
            ),
            f"{UNINSTALL}\\Vivaldi": _app("Vivaldi", "7.0.3495.18", InstallLocation="D:\\Apps\\Vivaldi\\Application"),
        },
        disk=tmp_path,
    )
    assert _found(inventory) == {("chrome", None, "131.0.6778.86"), ("vivaldi", None, "7.0.3495.18")}


def test_a_program_file_version_when_the_registry_has_none(tmp_path: Path):
    launcher = next((Path(pytest.importorskip("pip").__file__).parent / "_vendor" / "distlib").glob("t64.exe"))
    folder = tmp_path / "Users/alex/AppData/Local/SumatraPDF"
    folder.mkdir(parents=True)
    shutil.copy(launcher, folder / "SumatraPDF.exe")  # a real PE file standing in for SumatraPDF's
    inventory = _inventory(
        {
            f"{USER}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\SumatraPDF": _app(
                "SumatraPDF", None, InstallLocation="C:\\Users\\alex\\AppData\\Local\\SumatraPDF"
            ),
        },
        disk=tmp_path,
    )
    (sumatra,) = inventory.software
    assert (str(sumatra.version), sumatra.source, sumatra.scope) == ("1.1.0.14", "registry (file version)", "user")


@pytest.mark.parametrize("build", ["²²000", "26100a", ""], ids=["superscript-digits", "letters", "empty"])
def test_an_unreadable_build_is_an_os_problem_not_a_crash(build: str):
    registry = _registry({CURRENT: {"CurrentBuild": build, "ProductName": "Windows 11 Pro"}})
    inventory = WindowsInspector(registry, load_catalog(), None).inventory()
    assert inventory.os.version is None
    assert "CurrentBuild" in (inventory.os.problem or "")


def test_windows_server_2025_shares_windows_11s_build_but_stays_server():
    registry = _registry(
        {
            CURRENT: {
                "CurrentBuild": "26100",
                "UBR": 1742,
                "CurrentMajorVersionNumber": 10,
                "CurrentMinorVersionNumber": 0,
                "ProductName": "Windows Server 2025 Datacenter",
                "InstallationType": "Server",
                "DisplayVersion": "24H2",
            }
        }
    )
    os_info = WindowsInspector(registry, load_catalog(), None).inventory().os
    assert (os_info.name, os_info.track, str(os_info.version)) == (
        "Windows Server 2025 Datacenter",
        "server",
        "10.0.26100.1742",
    )


# Leftovers: left out only beside the real installation, never the only trace of a product -----------------

CHROME_CLIENT = "Google\\Update\\Clients\\{8A69D345-D564-463c-AFF1-A69D9E530F96}"
EDGE_CLIENT = "Microsoft\\EdgeUpdate\\Clients\\{56EB18F8-8008-4CBD-B6D2-8C97FE7E9062}"


@pytest.mark.parametrize(
    ("display_name", "product", "updater"),
    [("Google Chrome", "chrome", "Google Update"), ("Microsoft Edge", "edge", "Microsoft EdgeUpdate")],
)
def test_an_uninstall_entry_its_updater_does_not_register_is_reported_with_a_warning(
    display_name: str, product: str, updater: str
):
    # An export of the Uninstall keys alone, without the updater's: the browser is there all the same.
    inventory = _inventory({f"{UNINSTALL_32}\\{display_name}": _app(display_name, "120.0.6099.109")})
    assert _found(inventory) == {(product, None, "120.0.6099.109")}
    assert inventory.warnings == (
        f"{display_name} (machine-wide, 120.0.6099.109): {updater} does not register it, so it may be a leftover "
        "of an earlier install; reported, but its version may be stale",
    )


def test_a_machine_wide_leftover_beside_the_per_user_chrome_its_updater_registers_is_left_out():
    inventory = _inventory(
        {
            f"{UNINSTALL_32}\\Google Chrome": _app("Google Chrome", "120.0.6099.109"),
            f"{USER}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Google Chrome": _app(
                "Google Chrome", "131.0.6778.86"
            ),
            f"{USER}\\Software\\{CHROME_CLIENT}": {"pv": "131.0.6778.86"},
        }
    )
    assert [(item.product, item.scope, str(item.version)) for item in inventory.software] == [
        ("chrome", "user", "131.0.6778.86")
    ]
    assert inventory.warnings == ()


def test_a_browser_whose_folder_is_not_on_the_disk_is_reported_when_nothing_else_is(tmp_path: Path):
    (tmp_path / "Program Files").mkdir()
    keys = {
        f"{UNINSTALL}\\Microsoft Edge": _app(
            "Microsoft Edge", "130.0.2849.80", InstallLocation="C:\\Program Files\\Microsoft\\Edge\\Application"
        )
    }
    inventory = _inventory(keys, disk=tmp_path)
    assert _found(inventory) == {("edge", None, "130.0.2849.80")}
    assert inventory.warnings == (
        "Microsoft Edge (machine-wide, 130.0.2849.80): its folder C:\\Program Files\\Microsoft\\Edge\\Application "
        "is not on the disk, so it may be a leftover of an earlier install; reported, but its version may be stale",
    )
    # The real Edge elsewhere on the disk: the entry whose folder is gone is a leftover, and left out.
    (tmp_path / "Program Files (x86)/Microsoft/Edge/Application/131.0.2903.70").mkdir(parents=True)
    keys[f"{UNINSTALL_32}\\Microsoft Edge"] = _app(
        "Microsoft Edge", "131.0.2903.70", InstallLocation="C:\\Program Files (x86)\\Microsoft\\Edge\\Application"
    )
    keys[f"{HKLM}\\WOW6432Node\\{EDGE_CLIENT}"] = {"pv": "131.0.2903.70"}
    inventory = _inventory(keys, disk=tmp_path)
    assert [(item.product, str(item.version)) for item in inventory.software] == [("edge", "131.0.2903.70")]
    assert inventory.warnings == ()


def test_a_leftover_of_another_track_is_not_hidden_by_it():
    # Chrome Beta is its own installation: a stable Chrome entry its updater does not register stays.
    inventory = _inventory(
        {
            f"{UNINSTALL}\\Google Chrome": _app("Google Chrome", "120.0.6099.109"),
            f"{UNINSTALL}\\Google Chrome Beta": _app("Google Chrome Beta", "160.0.8200.3"),
        }
    )
    assert _found(inventory) == {("chrome", None, "120.0.6099.109"), ("chrome", "beta", "160.0.8200.3")}
    assert len(inventory.warnings) == 1 and "Google Update does not register it" in inventory.warnings[0]
