"""Pending restarts judged from captured machines (tests/fixtures/restarts): Linux trees (kernels in /boot
and /usr/lib/modules, update-notifier's flag files, snap and flatpak deployments, a dpkg database) with the
/proc or process list seen on them, Windows registry exports in regedit's own bytes, and what psutil
reports on Windows and macOS. The same code reads the live machine; test_restarts.py runs it there."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientcheck.catalog import load_catalog
from clientcheck.inspect import inspect_machine, macos
from clientcheck.inspect.formats.kernelrelease import parse_release
from clientcheck.inspect.fsroot import Root
from clientcheck.inspect.linux import restarts as linux_restarts
from clientcheck.inspect.linux.restarts import installed_kernels, kernel_restart, system_restart
from clientcheck.inspect.processes import ProcProcesses, Program
from clientcheck.inspect.processes_psutil import PsutilProcesses
from clientcheck.inspect.processes_recorded import RecordedProcesses
from clientcheck.inspect.registry import Registry, open_registry
from clientcheck.inspect.windows import inspect_windows
from clientcheck.inspect.windows import restarts as windows_restarts
from clientcheck.model import Installation, PendingRestart
from clientcheck.version import Version

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RESTARTS = FIXTURES / "restarts"
LINUX = RESTARTS / "linux"
OLD_COMMIT = "7d2ea3abff8cadf9e79171d31dece255c81db3cbf18be2d024fb41423f17a381"
UPDATES = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired"


def _root(case: str) -> Root:
    return Root(str(LINUX / case / "root"))


def _summary(found) -> list[tuple[str, str | None, str | None, str]]:
    return [
        (
            item.product,
            str(item.installed) if item.installed else None,
            str(item.running) if item.running else None,
            item.reason,
        )
        for item in found
    ]


# Kernel releases ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("6.1.0-27-amd64", "6.1.0-28-amd64"),  # Debian 12
        ("6.12.38+deb13-amd64", "6.12.41+deb13-amd64"),  # Debian 13's naming
        ("5.15.0-122-generic", "6.8.0-45-generic"),  # Ubuntu GA to HWE: one line
        ("6.8.0-45-generic", "6.8.0-49-generic"),
        ("6.8.0-1015-aws", "6.8.0-1016-aws"),
        ("6.11.4-301.fc41.x86_64", "6.11.5-300.fc41.x86_64"),  # Fedora
        ("6.11.7-300.fc41.x86_64", "6.12.5-200.fc42.x86_64"),  # across a Fedora upgrade
        ("5.14.0-427.13.1.el9_4.x86_64", "5.14.0-503.11.1.el9_5.x86_64"),  # RHEL 9.4 to 9.5
        ("5.14.0-427.el9.x86_64", "5.14.0-427.13.1.el9_4.x86_64"),
        ("6.11.5-arch1-1", "6.11.6-arch1-1"),  # Arch
        ("6.11.5-arch1-1", "6.11.5-arch2-1"),
        ("6.6.58-1-lts", "6.6.60-1-lts"),
        ("6.11.5-zen1-1-zen", "6.11.6-zen1-1-zen"),
        ("6.4.0-150600.23.25-default", "6.4.0-150600.23.30-default"),  # openSUSE Leap
        ("6.6.51+rpt-rpi-v8", "6.6.62+rpt-rpi-v8"),  # Raspberry Pi OS
        ("6.1.0-9-amd64", "6.1.0-10-amd64"),  # numbers, not text
    ],
)
def test_kernel_releases_of_one_line_are_ordered(older, newer):
    first, second = parse_release(older), parse_release(newer)
    assert first is not None and second is not None
    assert second.newer_than(first)
    assert not first.newer_than(second)
    assert not first.newer_than(first)


@pytest.mark.parametrize(
    ("running", "other"),
    [
        ("6.1.0-27-cloud-amd64", "6.1.0-28-amd64"),  # cloud vs generic
        ("6.1.0-27-amd64", "6.12.12+bpo-amd64"),  # stable vs backports
        ("6.1.0-27-amd64", "6.1.0-28-rt-amd64"),  # realtime
        ("6.11.4-301.fc41.x86_64", "6.11.4-301.fc41.x86_64+debug"),
        ("6.8.0-45-generic", "6.8.0-1015-aws"),
        ("6.8.0-45-generic", "6.8.0-49-generic-64k"),
        ("6.11.5-arch1-1", "6.6.58-1-lts"),
        ("6.18.44-fc-v782", "6.11.4-301.fc41.x86_64"),  # a hypervisor's kernel vs Fedora's
        ("6.11.4-301.fc41.x86_64", "0-rescue-4a1c3a5f0b0e4b9c9d8e7f6a5b4c3d2e"),
    ],
)
def test_kernels_of_other_lines_never_supersede(running, other):
    first, second = parse_release(running), parse_release(other)
    assert first is not None and second is not None
    assert not first.same_line(second)
    assert not second.newer_than(first) and not first.newer_than(second)


@pytest.mark.parametrize(
    "text", ["", "linux", "vmlinuz", "-6.1.0", "6" * 19 + ".1", "6.1.0-27-amd64" + "x" * 200, "\uff16.1.0-27"]
)
def test_odd_kernel_names_are_not_releases(text):
    assert parse_release(text) is None


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_any_text_parses_or_not_and_never_raises(left, right):
    first, second = parse_release(left), parse_release(right)
    if first is not None and second is not None:
        assert not (first.newer_than(second) and second.newer_than(first))


# The Linux system --------------------------------------------------------------------------------------------

LINUX_SYSTEMS = [
    (
        "debian-12-kernel-update",
        "6.1.0-27-amd64",
        PendingRestart(
            "debian",
            "system",
            "/boot/vmlinuz-6.1.0-28-amd64",
            None,
            None,
            "kernel 6.1.0-27-amd64 is running, 6.1.0-28-amd64 is installed",
        ),
    ),
    (
        "ubuntu-24.04-reboot-required",
        "6.8.0-45-generic",
        PendingRestart(
            "ubuntu",
            "system",
            "/run/reboot-required",
            None,
            None,
            "the system needs a restart: /run/reboot-required (linux-image-6.8.0-49-generic, linux-base, libc6); "
            "kernel 6.8.0-45-generic is running, 6.8.0-49-generic is installed",
        ),
    ),
    (
        "fedora-41-three-kernels",
        "6.11.4-301.fc41.x86_64",
        PendingRestart(
            "fedora",
            "system",
            "/boot/vmlinuz-6.11.7-300.fc41.x86_64",
            None,
            None,
            "kernel 6.11.4-301.fc41.x86_64 is running, 6.11.7-300.fc41.x86_64 is installed",
        ),
    ),
    ("fedora-41-three-kernels", "6.11.7-300.fc41.x86_64", None),  # already running the newest
    (
        "arch-modules-gone",
        "6.11.5-arch1-1",
        PendingRestart(
            "arch",
            "system",
            "/usr/lib/modules/6.11.6-arch1-1/vmlinuz",
            None,
            None,
            "kernel 6.11.5-arch1-1 is running, 6.11.6-arch1-1 is installed",
        ),
    ),
    (
        "arch-modules-gone",
        "6.11.7-arch1-1",  # a downgrade by hand: the running one's modules are gone all the same
        PendingRestart(
            "arch",
            "system",
            "/usr/lib/modules/6.11.6-arch1-1/vmlinuz",
            None,
            None,
            "kernel 6.11.7-arch1-1 is running, its modules are gone (6.11.6-arch1-1 is installed)",
        ),
    ),
    (
        "rhel-9-kernel-update",
        "5.14.0-427.13.1.el9_4.x86_64",
        PendingRestart(
            "rhel",
            "system",
            "/boot/vmlinuz-5.14.0-503.11.1.el9_5.x86_64",
            None,
            None,
            "kernel 5.14.0-427.13.1.el9_4.x86_64 is running, 5.14.0-503.11.1.el9_5.x86_64 is installed",
        ),
    ),
    ("debian-container", "6.1.0-27-amd64", None),  # the host's kernel: not ours to judge
    ("debian-cloud-kernel", "6.1.0-27-cloud-amd64", None),  # a generic kernel is another line
    ("vm-external-kernel", "6.18.44-fc-v782", None),  # no kernel installed, modules folder absent
]


@pytest.mark.parametrize(("case", "kernel", "expected"), LINUX_SYSTEMS, ids=[f"{c}-{k}" for c, k, _ in LINUX_SYSTEMS])
def test_linux_system_restart(case, kernel, expected):
    os_id = case.split("-")[0]
    assert system_restart(_root(case), os_id, kernel) == expected


def test_a_merged_usr_lists_its_modules_folder_once(monkeypatch):
    """/lib is a link to usr/lib: /lib/modules and /usr/lib/modules are one folder, looked at once."""
    listed: list[str] = []
    real_listdir = Root.listdir

    def listdir(self, path, hides=None):
        listed.append(path)
        return real_listdir(self, path, hides)

    monkeypatch.setattr(Root, "listdir", listdir)
    assert installed_kernels(_root("fedora-41-three-kernels")) == {
        "6.11.4-301.fc41.x86_64": "/boot/vmlinuz-6.11.4-301.fc41.x86_64",
        "6.11.5-300.fc41.x86_64": "/boot/vmlinuz-6.11.5-300.fc41.x86_64",
        "6.11.7-300.fc41.x86_64": "/boot/vmlinuz-6.11.7-300.fc41.x86_64",
        "0-rescue-4a1c3a5f0b0e4b9c9d8e7f6a5b4c3d2e": "/boot/vmlinuz-0-rescue-4a1c3a5f0b0e4b9c9d8e7f6a5b4c3d2e",
    }
    assert listed == ["/boot", "/usr/lib/modules"]


def test_a_captured_tree_is_judged_by_its_flag_file_only():
    """--root: the captured machine's running kernel is unknown, so its newer kernel proves nothing."""
    inventory = inspect_machine("linux", str(LINUX / "ubuntu-24.04-reboot-required" / "root"), {})
    assert inventory.os.kernel is None
    [found] = inventory.restarts
    assert (
        found.reason
        == "the system needs a restart: /run/reboot-required (linux-image-6.8.0-49-generic, linux-base, libc6)"
    )
    assert inspect_machine("linux", str(LINUX / "debian-12-kernel-update" / "root"), {}).restarts == ()


def test_many_packages_are_summed_up_and_junk_lines_dropped(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "reboot-required").write_text("*** System restart required ***\n")
    names = [f"libfoo{i}" for i in range(8)] + ["rm -rf /", "", "\x00bad", "libfoo1"]
    (tmp_path / "run" / "reboot-required.pkgs").write_text("\n".join(names) + "\n")
    found = system_restart(Root(str(tmp_path)), "ubuntu", None)
    assert found is not None
    assert found.reason == (
        "the system needs a restart: /run/reboot-required (libfoo0, libfoo1, libfoo2, libfoo3, libfoo4 and 3 more)"
    )


def test_unreadable_or_odd_package_lists_still_say_a_restart_is_needed(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "reboot-required").write_bytes(b"")
    os.mkfifo(tmp_path / "run" / "reboot-required.pkgs")  # never read: it would block a login run
    found = system_restart(Root(str(tmp_path)), "debian", None)
    assert found is not None and found.reason == "the system needs a restart: /run/reboot-required"


def test_the_running_kernel_rebuilt_under_the_same_name_is_noticed(tmp_path):
    """Debian can ship a new build of a kernel without changing its release name: the image is replaced."""
    (tmp_path / "boot").mkdir()
    (tmp_path / "boot" / "vmlinuz-6.1.0-27-amd64").write_bytes(b"MZ")
    (tmp_path / "usr" / "lib" / "modules" / "6.1.0-27-amd64").mkdir(parents=True)
    files = Root(str(tmp_path))
    booted_an_hour_ago = time.time() - 3600
    assert kernel_restart(files, "6.1.0-27-amd64", booted_an_hour_ago) == (
        "kernel 6.1.0-27-amd64 was replaced on disk after the system started",
        "/boot/vmlinuz-6.1.0-27-amd64",
    )
    assert kernel_restart(files, "6.1.0-27-amd64", time.time() + 10) is None  # installed, then booted
    assert kernel_restart(files, "6.1.0-27-amd64", None) is None


@pytest.mark.parametrize("kernel", ["", "..", "../../etc", "6.1.0/../../x", "\x00", "6.1.0-27-amd64\n", "é"])
def test_weird_running_kernels_are_no_evidence(kernel):
    assert system_restart(_root("debian-12-kernel-update"), "debian", kernel) is None


# The Windows system --------------------------------------------------------------------------------------------


def test_windows_updates_waiting_for_a_restart():
    registry = open_registry(str(RESTARTS / "windows-10-updates-pending" / "registry.reg"))
    assert windows_restarts.system_restart(registry) == PendingRestart(
        "windows",
        "system",
        UPDATES,
        None,
        None,
        "the system needs a restart: Windows Update installed updates that take effect at the next restart "
        "(2 updates); Windows servicing has changes waiting for a restart",
    )


def test_file_renames_and_update_exe_leftovers_are_not_a_pending_update():
    """PendingFileRenameOperations and UpdateExeVolatile are set, and deliberately not read."""
    registry = open_registry(str(RESTARTS / "windows-11-file-renames-only" / "registry.reg"))
    assert registry.values("HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Session Manager")
    assert registry.integer("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Updates\\UpdateExeVolatile", "Flags") == 1
    assert windows_restarts.system_restart(registry) is None


def test_a_clean_windows_export_owes_nothing():
    registry = open_registry(str(FIXTURES / "windows" / "windows-11-24h2" / "registry.reg"))
    assert windows_restarts.system_restart(registry) is None


# Windows programs ------------------------------------------------------------------------------------------------


def _windows_case():
    case = RESTARTS / "windows-10-updates-pending"
    inventory = inspect_machine("windows", str(case / "root"), {}, registry=str(case / "registry.reg"))
    records = json.loads((case / "processes.json").read_text())["processes"]
    return inventory, records


def test_chrome_updated_under_a_running_chrome_on_windows():
    inventory, records = _windows_case()
    found = windows_restarts.program_restarts(inventory.software, RecordedProcesses(records))
    # Edge, Firefox and Foxit run what is installed; the export's registry also says Windows wants a restart.
    assert _summary(found) == [
        ("chrome", "130.0.6723.117", "130.0.6723.92", "running 130.0.6723.92 since before the update to 130.0.6723.117")
    ]
    assert found[0].path == "C:\\Program Files\\Google\\Chrome\\Application"


def test_without_the_crash_handler_the_loaded_chrome_dll_tells_the_version():
    inventory, records = _windows_case()
    records = [record for record in records if "--type=crashpad-handler" not in record.get("arguments", [])]
    found = windows_restarts.program_restarts(inventory.software, RecordedProcesses(records))
    assert [(item.product, str(item.running)) for item in found] == [("chrome", "130.0.6723.92")]


def test_windows_paths_are_compared_without_case():
    inventory, records = _windows_case()
    shouted = [
        {**record, "exe": record["exe"].upper(), "loaded": [p.upper() for p in record.get("loaded", [])]}
        for record in records
    ]
    found = windows_restarts.program_restarts(inventory.software, RecordedProcesses(shouted))
    assert [(item.product, str(item.running)) for item in found] == [("chrome", "130.0.6723.92")]


def test_a_program_without_version_folders_counts_only_when_its_file_was_replaced():
    """Foxit's InstallLocation ends in a backslash; its process is still its own. Windows locks a running
    program, so only a file created after the process started (renamed aside, then written) counts."""
    inventory, records = _windows_case()
    foxit = [{**record, "replaced": True} if record["pid"] == 6644 else record for record in records]
    found = windows_restarts.program_restarts(inventory.software, RecordedProcesses(foxit))
    assert [(item.product, item.path, item.reason) for item in found][1:] == [
        (
            "foxit-reader",
            "C:\\Program Files (x86)\\Foxit Software\\Foxit PDF Reader\\",
            "running since before the update to 2024.2.3.25184",
        )
    ]


def _psutil_sees(monkeypatch, records) -> None:
    """psutil's processes on a live run, replaced by recorded ones."""
    monkeypatch.setattr("clientcheck.inspect.processes_psutil.running_processes", lambda: RecordedProcesses(records))


def test_a_windows_export_never_looks_at_this_machines_processes(monkeypatch):
    _, records = _windows_case()
    _psutil_sees(monkeypatch, records)  # Chrome's old processes, were they looked at
    inventory, _ = _windows_case()
    assert [(item.product, item.kind) for item in inventory.restarts] == [("windows", "system")]


def test_live_windows_logic_with_injected_processes_and_registry(monkeypatch):
    """What a live Windows run does (LiveRegistry and psutil replaced by their seams)."""
    case = RESTARTS / "windows-10-updates-pending"
    _, records = _windows_case()
    _psutil_sees(monkeypatch, records)

    class LiveLike(Registry):  # a registry that is not an export: as the live one
        def __init__(self) -> None:
            self.export = open_registry(str(case / "registry.reg"))

        def subkeys(self, path):
            return self.export.subkeys(path)

        def values(self, path):
            return self.export.values(path)

    inventory = inspect_windows(str(case / "root"), LiveLike(), {}, live=True)
    assert [(item.product, item.kind) for item in inventory.restarts] == [("windows", "system"), ("chrome", "program")]


# macOS programs ---------------------------------------------------------------------------------------------------


def test_apps_updated_under_running_ones_on_macos():
    root = FIXTURES / "macos" / "macos-15-sequoia" / "root"
    inventory = inspect_machine("macos", str(root), {})
    assert inventory.restarts == ()  # a captured Mac: its processes are unknown
    records = json.loads((RESTARTS / "macos-15-updated-while-running" / "processes.json").read_text())["processes"]
    found = macos.program_restarts(inventory.software, RecordedProcesses(records))
    assert {item.path: _summary([item])[0] for item in found} == {
        # Brave's framework folder puts Chromium's major first (130.1.71.123): its own version is 1.71.123.
        "/Applications/Brave Browser.app": (
            "brave",
            "1.73.91",
            "1.71.123",
            "running 1.71.123 since before the update to 1.73.91",
        ),
        "/Applications/Google Chrome.app": (
            "chrome",
            "131.0.6778.86",
            "131.0.6778.70",
            "running 131.0.6778.70 since before the update to 131.0.6778.86",
        ),
        "/Applications/Firefox.app": ("firefox", "132.0.2", None, "running since before the update to 132.0.2"),
    }
    # Nothing about the OS: macOS applies its updates during the restart itself.
    files = Root(str(root))
    homes = macos.homes_for(files, {}, live=False)
    inspector = macos.MacInspector(files, load_catalog("macos"), homes, None, processes=RecordedProcesses(records))
    everything = inspector.inventory().restarts
    assert [item.kind for item in everything] == ["program"] * 3
    assert list(everything) == found


def test_psutil_replaced_compares_the_program_files_creation_with_the_process_start(monkeypatch, tmp_path):
    pytest.importorskip("psutil")
    program = tmp_path / "Firefox"
    program.write_bytes(b"\xcf\xfa\xed\xfe")
    started = 1_732_509_000.0

    class Status:
        def __init__(self, created: float | None) -> None:
            if created is not None:
                self.st_birthtime = created
            self.st_ctime = created or 0.0

    source = PsutilProcesses()
    real_stat = os.stat
    for created, expected in ((started - 3600, False), (started + 1, False), (started + 600, True)):
        monkeypatch.setattr(os, "stat", lambda path, created=created: Status(created))
        assert source.replaced(Program(812, str(program), False, started)) is expected
    monkeypatch.setattr(os, "stat", real_stat)
    assert source.replaced(Program(812, str(tmp_path / "gone"), False, started)) is True
    assert source.replaced(Program(812, str(program), False, None)) is None


# Linux programs from captured data ---------------------------------------------------------------------------------


def _installation(product: str, version: str | None, source: str, path: str, package: str | None) -> Installation:
    return Installation(
        product=product,
        category="browser",
        name=product.title(),
        version=Version(version) if version else None,
        source=source,
        path=path,
        package=package,
    )


def test_chromium_upgraded_by_dpkg_is_found_through_its_package_and_the_crash_handler_gives_the_old_version():
    case = LINUX / "debian-12-chromium-upgraded"
    records = json.loads((case / "processes.json").read_text())["processes"]
    software = (
        _installation("chromium", "131.0.6778.85", "dpkg", "/usr/bin/chromium", "chromium"),
        _installation("firefox", "128.5.0esr", "dpkg", "/usr/lib/firefox-esr/firefox-esr", "firefox-esr"),
    )
    found = linux_restarts.program_restarts(software, RecordedProcesses(records), Root(str(case / "root")))
    assert _summary(found) == [
        (
            "chromium",
            "131.0.6778.85",
            "130.0.6723.116",
            "running 130.0.6723.116 since before the update to 131.0.6778.85",
        )
    ]


def test_a_snap_still_running_its_previous_revision():
    case = LINUX / "ubuntu-24.04-snap-refreshed"
    software = (
        _installation("firefox", "133.0-2", "snap", "/snap/bin/firefox", "firefox"),
        _installation("chromium", "131.0.6778.69", "snap", "/snap/bin/chromium", "chromium"),
    )
    found = linux_restarts.program_restarts(software, ProcProcesses(str(case / "proc")), Root(str(case / "root")))
    assert _summary(found) == [
        (
            "firefox",
            "133.0",
            "132.0.2",
            "running 132.0.2 since before the update to 133.0 (snap revision 5273; 5361 is installed)",
        )
    ]


def test_a_flatpak_still_running_its_previous_commit():
    case = LINUX / "fedora-41-flatpak-updated"
    software = (
        _installation("firefox", "133.0", "flatpak", "/var/lib/flatpak/app/org.mozilla.firefox", "org.mozilla.firefox"),
        # The same app installed for a user is another installation: its processes are not these.
        _installation(
            "firefox",
            "133.0",
            "flatpak",
            "/home/carol/.local/share/flatpak/app/org.mozilla.firefox",
            "org.mozilla.firefox",
        ),
    )
    found = linux_restarts.program_restarts(software, ProcProcesses(str(case / "proc")), Root(str(case / "root")))
    assert _summary(found) == [
        (
            "firefox",
            "133.0",
            None,
            "running since before the update to 133.0 (flatpak commit 7d2ea3abff8c; c41b9e0d6a3f is installed)",
        )
    ]
    assert found[0].path == "/var/lib/flatpak/app/org.mozilla.firefox"


def test_a_flatpak_whose_old_deployment_is_still_on_disk_gives_its_version(tmp_path):
    case = LINUX / "fedora-41-flatpak-updated"
    shutil.copytree(case, tmp_path / "case", symlinks=True)
    old = tmp_path / "case/root/var/lib/flatpak/app/org.mozilla.firefox/x86_64/stable" / OLD_COMMIT
    carol = FIXTURES / "linux/flatpak-only-user/root/home/carol"
    source = carol / ".local/share/flatpak/app/org.mozilla.firefox/x86_64/stable" / OLD_COMMIT
    shutil.copytree(source, old)
    software = (
        _installation("firefox", "133.0", "flatpak", "/var/lib/flatpak/app/org.mozilla.firefox", "org.mozilla.firefox"),
    )
    found = linux_restarts.program_restarts(
        software, ProcProcesses(str(tmp_path / "case/proc")), Root(str(tmp_path / "case/root"))
    )
    assert [str(item.running) for item in found] == ["132.0.2"]


def test_a_running_version_newer_than_installed_is_no_update_owed():
    software = (_installation("chromium", "130.0.6723.116", "dpkg", "/usr/lib/chromium/chromium", "chromium"),)
    records = [
        {"pid": 10, "exe": "/usr/lib/chromium/chromium", "deleted": True, "replaced": True},
        {
            "pid": 11,
            "exe": "/usr/lib/chromium/chrome_crashpad_handler",
            "replaced": False,
            "arguments": ["x", "--annotation=ver=131.0.6778.85"],
        },
    ]
    assert linux_restarts.program_restarts(software, RecordedProcesses(records), Root("/nonexistent")) == []


# Odd input ------------------------------------------------------------------------------------------------------------


def test_odd_process_records_and_installations_are_ignored_quietly():
    records = [
        {"pid": "12", "exe": "/usr/lib/firefox-esr/firefox-esr"},
        {"pid": 13},
        {"pid": 14, "exe": None},
        {
            "pid": 15,
            "exe": "/usr/lib/firefox-esr/firefox-esr",
            "replaced": "yes",
            "loaded": "libxul.so",
            "arguments": [1, None],
        },
        {"pid": 15, "exe": "/duplicate"},
        {"pid": 16, "exe": "/snap/"},
        {"pid": 17, "exe": "/snap/firefox"},
        {"pid": 18, "exe": "/app/lib/firefox/firefox", "sandbox": {"Instance": "not a group"}},
        {
            "pid": 19,
            "exe": "/app/lib/firefox/firefox",
            "sandbox": {
                "Application": {"name": "org.mozilla.firefox"},
                "Instance": {
                    "arch": "../..",
                    "branch": "x",
                    "app-commit": "y",
                    "app-path": "/var/lib/flatpak/app/org.mozilla.firefox/../../../etc",
                },
            },
        },
        {"pid": 20, "exe": ""},
    ]
    software = (
        _installation("firefox", "128.5.0esr", "dpkg", "/usr/lib/firefox-esr/firefox-esr", "firefox-esr"),
        _installation("firefox", None, None, None, None),  # no path
        _installation("firefox", None, None, "firefox", None),  # a program name never found
        _installation("firefox", "133.0", "snap", "/snap/bin/firefox", "firefox"),
        _installation("firefox", "133.0", "flatpak", "/var/lib/flatpak/app/org.mozilla.firefox", "org.mozilla.firefox"),
    )
    source = RecordedProcesses(records)
    assert linux_restarts.program_restarts(software, source, Root("/nonexistent")) == []
    assert windows_restarts.program_restarts(software, source) == []
    assert macos.program_restarts(software, source) == []
    assert RecordedProcesses.from_json("not json").programs() == []
    assert RecordedProcesses.from_json('{"processes": {"pid": 1}}').programs() == []
    assert RecordedProcesses.from_json("[1, 2]").programs() == []


def test_a_proc_tree_with_odd_entries_is_read_quietly(tmp_path):
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)  # not a pid
    (proc / "12").mkdir()  # a kernel thread: no exe
    (proc / "13").mkdir()
    (proc / "13" / "exe").symlink_to("/memfd:sealed-91 (deleted)")
    (proc / "13" / "maps").write_bytes(b"garbage\n\xff\xfe\n7f00-7f01 r-xp 00000000 fe:01 1 /usr/lib/x (deleted)\n")
    (proc / "13" / "cmdline").write_bytes(b"\xff\xfe\0--annotation=ver=1\0")
    (proc / "14").write_text("a file, not a folder")
    source = ProcProcesses(str(proc))
    programs = list(source.programs())
    assert programs == [Program(13, "/memfd:sealed-91", True, None)]
    assert source.loaded(programs[0]) == ("/usr/lib/x (deleted)",)
    assert source.arguments(programs[0]) == ("\udcff\udcfe", "--annotation=ver=1")
    assert source.replaced(programs[0]) is None
    assert list(ProcProcesses(str(tmp_path / "missing")).programs()) == []
