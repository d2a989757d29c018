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
        "Version: 2:1snap1-0ubuntu2\nDescription: Transitional package - chromium-browser -> chromium snap\n"
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
