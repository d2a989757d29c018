"""Nothing is inspected twice: a check reads each file of the machine once, over one ``Root``, and the
pending-restart check asks the package databases the inspection opened (dpkg's status file and package
lists) and reads flatpak metadata once. Counted with an audit hook (the ``open`` events of ``open`` and
``os.open``) in a fresh interpreter: a hook cannot be taken out of the test's own."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

RESTARTS = FIXTURES / "restarts" / "linux"
OLD_COMMIT = "7d2ea3abff8cadf9e79171d31dece255c81db3cbf18be2d024fb41423f17a381"

# Counts every file opened (Python's own modules aside) and every Root made, from the moment it is told to.
_COUNTING = """
import collections, json, sys

opened = collections.Counter()
roots = []
counting = False


def hook(event, args):
    if counting and event == "open" and isinstance(args[0], str) and not args[0].endswith((".py", ".pyc")):
        opened[args[0]] += 1


sys.addaudithook(hook)
from clientcheck.inspect import fsroot

made = fsroot.Root.__init__


def making(self, base, **options):
    if counting:
        roots.append(base)
    made(self, base, **options)


fsroot.Root.__init__ = making
mode, report = sys.argv[1], sys.argv[2]
restarts = None
if mode == "check":
    from clientcheck.cli import main

    counting = True
    main(["check", "--format", "json"])
else:
    from clientcheck.catalog import load_catalog
    from clientcheck.inspect.linux import LinuxInspector
    from clientcheck.inspect.linux.desktop import homes_for
    from clientcheck.inspect.processes import ProcProcesses
    from clientcheck.inspect.processes_recorded import RecordedProcesses

    tree, processes = sys.argv[3], sys.argv[4]
    if processes.endswith(".json"):
        with open(processes, encoding="utf-8") as stream:
            source = RecordedProcesses.from_json(stream.read())
    else:
        source = ProcProcesses(processes)
    catalog = load_catalog("linux")
    counting = True
    root = fsroot.Root(tree)
    inspector = LinuxInspector(root, catalog, {}, homes=homes_for(root, {}, live=False), kernel=None, processes=source)
    inventory = inspector.inventory()
    restarts = [[r.product, r.kind, r.running and str(r.running), r.reason] for r in inventory.restarts]
counting = False
with open(report, "w", encoding="utf-8") as stream:
    json.dump({"opened": opened, "roots": roots, "restarts": restarts}, stream)
"""


def _counted(tmp_path: Path, *arguments: str) -> dict:
    report = tmp_path / "opened.json"
    proc = subprocess.run(
        [sys.executable, "-c", _COUNTING, *arguments[:1], str(report), *arguments[1:]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.exists(), proc.stderr
    return json.loads(report.read_text())


def _twice(opened: dict[str, int]) -> list[str]:
    return sorted(path for path, count in opened.items() if count > 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="checks this Linux machine")
def test_a_check_of_this_machine_opens_each_file_once_over_one_root(tmp_path):
    found = _counted(tmp_path, "check")
    assert found["roots"] == ["/"]
    assert _twice(found["opened"]) == []
    assert found["opened"].get("/var/lib/dpkg/status", 0) <= 1


def test_a_program_placed_through_its_package_asks_the_databases_the_inspection_opened(tmp_path):
    """Debian's chromium upgraded under the running browser: its deleted programs are placed through dpkg's
    file lists, which the inspection has read already."""
    tree = tmp_path / "root"
    shutil.copytree(FIXTURES / "linux" / "debian-12-desktop" / "root", tree, symlinks=True)
    status = tree / "var" / "lib" / "dpkg" / "status"
    status.write_text(
        status.read_text().replace("Version: 130.0.6723.116-1~deb12u1", "Version: 131.0.6778.85-1~deb12u1")
    )
    (tree / "usr" / "bin").mkdir(parents=True, exist_ok=True)  # Debian's wrapper script, which the entry starts
    (tree / "usr" / "bin" / "chromium").write_text('#!/bin/sh\nexec /usr/lib/chromium/chromium "$@"\n')
    processes = RESTARTS / "debian-12-chromium-upgraded" / "processes.json"

    found = _counted(tmp_path, "inspector", str(tree), str(processes))

    assert found["restarts"] == [
        [
            "chromium",
            "program",
            "130.0.6723.116",
            "running 130.0.6723.116 since before the update to 131.0.6778.85",
        ]
    ]
    assert found["roots"] == [str(tree)]
    assert found["opened"][f"{tree}/var/lib/dpkg/status"] == 1
    assert found["opened"][f"{tree}/var/lib/dpkg/info/chromium.list"] == 1
    assert _twice(found["opened"]) == []


def test_a_flatpak_running_an_old_commit_reads_each_metainfo_and_sandbox_once(tmp_path):
    case = tmp_path / "case"
    shutil.copytree(RESTARTS / "fedora-41-flatpak-updated", case, symlinks=True)
    tree = case / "root"
    app = tree / "var" / "lib" / "flatpak" / "app" / "org.mozilla.firefox"
    carol = FIXTURES / "linux" / "flatpak-only-user" / "root" / "home" / "carol"
    old = carol / ".local" / "share" / "flatpak" / "app" / "org.mozilla.firefox" / "x86_64" / "stable" / OLD_COMMIT
    shutil.copytree(old, app / "x86_64" / "stable" / OLD_COMMIT)  # the old deployment, still on disk
    exports = tree / "var" / "lib" / "flatpak" / "exports" / "share" / "applications"
    exports.mkdir(parents=True)
    (exports / "org.mozilla.firefox.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Firefox\nCategories=Network;WebBrowser;\n"
        "Exec=/usr/bin/flatpak run --branch=stable --arch=x86_64 --command=firefox org.mozilla.firefox %u\n"
        "X-Flatpak=org.mozilla.firefox\n"
    )

    found = _counted(tmp_path, "inspector", str(tree), str(case / "proc"))

    assert [(product, kind, running) for product, kind, running, _ in found["restarts"]] == [
        ("firefox", "program", "132.0.2")
    ]
    assert found["roots"] == [str(tree)]
    # The metainfo of the installed deployment (its version) and of the one still running (the version it
    # runs): each read once. (Tried names that do not exist are opened too, and counted.)
    metainfo = [path for path in found["opened"] if path.endswith((".appdata.xml", ".metainfo.xml"))]
    read = sorted(path for path in metainfo if Path(path).is_file())
    assert [found["opened"][path] for path in read] == [1, 1]
    installed = (app / "current" / "active").resolve().name
    assert {path.split("/stable/")[1].split("/")[0] for path in read} == {OLD_COMMIT, installed}
    sandboxes = [path for path in found["opened"] if path.endswith("/.flatpak-info")]
    assert sandboxes  # the sandboxed processes were looked at …
    assert _twice(found["opened"]) == []  # … and every file once
