"""A machine with 30,000 dpkg packages (a 32 MB status file, twice the size above which nothing used to be
read) is judged exactly as the same machine with 47 packages, with its status file sorted as dpkg writes
it or shuffled by another tool, and without ever holding the file in memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from clientcheck.inspect import inspect_machine
from conftest import LINUX_FIXTURES
from dpkg_machines import STATUS, debian_machine

DEBIAN = LINUX_FIXTURES / "debian-12-desktop" / "root"
PACKAGES = 30_000


@pytest.fixture(scope="module", params=["sorted", "shuffled"])
def big_machine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp(request.param) / "root"
    root = debian_machine(target, PACKAGES, shuffle=request.param == "shuffled")
    status = (root / STATUS).read_bytes()
    assert status.count(b"\nPackage: ") + 1 == PACKAGES
    assert len(status) > 30 * 1024 * 1024
    return root


def _report(run_cli, root: Path) -> tuple[int, dict]:
    result = run_cli("check", "--root", str(root), "--platform", "linux", "--format", "json")
    return result.status, result.json()


def test_a_30000_package_machine_is_judged_like_the_small_one(big_machine: Path, run_cli):
    status, report = _report(run_cli, big_machine)
    small_status, small = _report(run_cli, DEBIAN)
    assert status == small_status == 1
    assert report["software"] == small["software"]  # the same products, versions, packages and paths
    assert report["findings"] == small["findings"]
    assert report["summary"] == small["summary"]
    assert not [finding for finding in report["findings"] if finding["status"] == "unknown"]
    assert report["warnings"] == small["warnings"] == []


def test_a_30000_package_machine_is_inspected_without_holding_its_status(big_machine: Path):
    tracemalloc.start()
    try:
        inventory = inspect_machine("linux", str(big_machine), env={})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert {item.product for item in inventory.software} == {"firefox", "chromium", "chrome", "evince", "okular"}
    assert all(item.version is not None for item in inventory.software)
    # Everything the inspection allocated at once, catalog and all, is a fraction of the 32 MB file: the
    # file was searched a window (at most 1 MiB) at a time.
    assert peak < 8 * 1024 * 1024
