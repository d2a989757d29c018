"""Pending restarts against real software on this machine: Debian's chromium and firefox-esr started
headless, and a real package upgraded by dpkg under a running program, in a throw-away root (the machine's
own dpkg database is never touched). Needs root (the throw-away root, and Chromium refuses its sandbox as
root), the browsers installed (.ci/run installs them) and dpkg-deb."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clientcheck.inspect import inspect_machine
from clientcheck.inspect.fsroot import Root
from clientcheck.inspect.linux.restarts import program_restarts
from clientcheck.inspect.processes import ProcProcesses
from clientcheck.model import Installation, Inventory
from clientcheck.version import Version
from conftest import require_tool
from throwaway_root import ThrowawayRoot

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root"),
]

PROBE = "clientcheck-restart-probe"


def _wait_for(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail("timed out")


def _pids_running(folder: str) -> list[int]:
    return [program.pid for program in ProcProcesses().programs() if program.exe.startswith(folder + "/")]


def _stop(process: subprocess.Popen[bytes], folder: str) -> None:
    process.kill()
    process.wait()
    for pid in _pids_running(folder):  # the browser's children, orphaned by killing it
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass


def _programs(inventory: Inventory):
    """What this machine's inspection found waiting for a restart, of programs."""
    return [item for item in inventory.restarts if item.kind == "program"]


def _dpkg_upstream(package: str) -> str:
    version = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True, check=True
    ).stdout
    return version.split(":", 1)[-1].rsplit("-", 1)[0]


def test_a_running_chromium_that_is_current_is_not_reported_and_its_version_is_read(tmp_path):
    require_tool("chromium")
    browser = subprocess.Popen(
        ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its singleton socket goes to TMPDIR and stays there when the browser is killed: keep it in the test's.
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    try:
        # The crash handler, which names the running version, starts a moment after the browser.
        _wait_for(lambda: any(p.exe.endswith("chrome_crashpad_handler") for p in ProcProcesses().programs()))
        inventory = inspect_machine()
        assert any(item.product == "chromium" for item in inventory.software)
        assert [item for item in _programs(inventory) if item.product == "chromium"] == []

        # The same processes judged against a newer installed version: the running one is read from the
        # crash handler's arguments, as when dpkg has replaced the files under the running browser.
        newer = Installation(
            product="chromium",
            category="browser",
            name="Chromium",
            version=Version("999.0.0.1"),
            source="dpkg",
            path="/usr/lib/chromium/chromium",
            package="chromium",
        )
        [found] = program_restarts((newer,), ProcProcesses(), Root("/"))
        assert found.running == Version(_dpkg_upstream("chromium"))
        assert found.reason == f"running {found.running} since before the update to 999.0.0.1"
    finally:
        _stop(browser, "/usr/lib/chromium")


def test_a_running_firefox_esr_that_is_current_is_not_reported(tmp_path):
    require_tool("firefox-esr")
    env = {**os.environ, "HOME": str(tmp_path), "MOZ_CRASHREPORTER_DISABLE": "1"}
    browser = subprocess.Popen(
        ["firefox-esr", "--headless", "--no-remote", "--profile", str(tmp_path), "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        main = _wait_for(
            lambda: next(
                (p for p in ProcProcesses().programs() if p.pid == browser.pid and p.exe.endswith("firefox-esr")), None
            )
        )
        # It maps libxul.so from its own folder: what the replaced-library check looks at.
        _wait_for(lambda: "/usr/lib/firefox-esr/libxul.so" in ProcProcesses().loaded(main))
        inventory = inspect_machine()
        assert any(item.path == "/usr/lib/firefox-esr/firefox-esr" for item in inventory.software)
        assert [item for item in _programs(inventory) if item.product == "firefox"] == []
    finally:
        _stop(browser, "/usr/lib/firefox-esr")


def _build(tmp_path: Path, version: str) -> Path:
    """A package like Debian's chromium: /usr/bin/<name> is a shell script that starts the real program
    from /usr/lib/<name>/."""
    tree = tmp_path / f"{PROBE}-{version}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {PROBE}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: clientcheck tests <tests@clientcheck.invalid>\n"
        "Description: a program to upgrade under itself, for clientcheck's tests\n"
    )
    (tree / "usr" / "lib" / PROBE).mkdir(parents=True)
    shutil.copy2(shutil.which("sleep") or "/bin/sleep", tree / "usr" / "lib" / PROBE / "probe")
    (tree / "usr" / "bin").mkdir(parents=True)
    wrapper = tree / "usr" / "bin" / PROBE
    wrapper.write_text(f'#!/bin/sh\nexec /usr/lib/{PROBE}/probe "$@"\n')
    wrapper.chmod(0o755)
    package = tmp_path / f"{PROBE}_{version}_all.deb"
    subprocess.run(
        ["dpkg-deb", "--build", "--root-owner-group", str(tree), str(package)], check=True, capture_output=True
    )
    return package


def _dpkg(root: ThrowawayRoot, *arguments: str) -> None:
    proc = root.run(["dpkg", *arguments])
    assert proc.returncode == 0, proc.stdout + proc.stderr


# What the inventory would say of the probe, judged inside the throw-away root: the program's file, its
# package and dpkg's database are there, not on this machine.
_JUDGE = """
import json, sys
from clientcheck.inspect.fsroot import Root
from clientcheck.inspect.linux.restarts import program_restarts
from clientcheck.inspect.processes import ProcProcesses
from clientcheck.model import Installation
from clientcheck.version import Version

installation = Installation(
    product="evince",  # any product: the installation is what the inventory would say
    category="pdf-viewer",
    name="Probe",
    version=Version("2.0"),
    source="dpkg",
    path=sys.argv[1],  # the wrapper script, as the inventory finds it from a desktop entry
    package=sys.argv[2],
    package_version="2.0-1",
)
found = program_restarts((installation,), ProcProcesses(), Root("/"))
print(json.dumps([
    [item.product, item.path, item.installed and str(item.installed), item.running and str(item.running), item.reason]
    for item in found
    if item.kind == "program"
]))
"""


def _judged(root: ThrowawayRoot) -> list[list[str | None]]:
    proc = root.run([sys.executable, "-c", _JUDGE, f"/usr/bin/{PROBE}", PROBE])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_program_upgraded_by_dpkg_under_it_is_found_through_its_package(tmp_path, throwaway_root):
    require_tool("dpkg-deb", "dpkg")
    root = throwaway_root
    first, second = _build(tmp_path, "1.0-1"), _build(tmp_path, "2.0-1")
    _dpkg(root, "-i", str(first))
    program = root.popen([f"/usr/bin/{PROBE}", "300"])
    try:
        _wait_for(lambda: os.readlink(f"/proc/{program.pid}/exe") == f"/usr/lib/{PROBE}/probe")
        assert _judged(root) == []

        _dpkg(root, "-i", str(second))

        assert os.readlink(f"/proc/{program.pid}/exe") == f"/usr/lib/{PROBE}/probe (deleted)"
        assert _judged(root) == [["evince", f"/usr/bin/{PROBE}", "2.0", None, "running since before the update to 2.0"]]
    finally:
        program.kill()
        program.wait()
    assert not os.path.lexists(f"/usr/bin/{PROBE}")  # this machine never had it
