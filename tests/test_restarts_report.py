"""Pending restarts in the report: evaluation (an update waiting for a restart is still owed), and every
format carrying it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from clientcheck.evaluate import evaluate
from clientcheck.login import notice
from clientcheck.model import Installation, Inventory, OSInfo, PendingRestart, Report, Rule, RuleSet, RulesInfo
from clientcheck.version import Version

ROOT = Path(__file__).parents[1]
TODAY = dt.date(2026, 11, 25)
UBUNTU = ROOT / "tests" / "fixtures" / "linux" / "ubuntu-24.04-snaps" / "root"


def _inventory(*restarts: PendingRestart) -> Inventory:
    os_info = OSInfo("linux", "debian", "Debian GNU/Linux", Version("12.8"))
    firefox = Installation(
        "firefox", "browser", "Firefox ESR", Version("153.7.0esr"), "esr", path="/usr/lib/firefox-esr"
    )
    return Inventory(os_info, (firefox,), restarts=restarts)


RULES = RuleSet(
    "Test IT",
    1,
    TODAY,
    dt.date(2027, 1, 31),
    (
        Rule("firefox-esr", ("firefox",), Version("153.6"), track="esr"),
        Rule("debian", ("debian",), Version("12.7")),
    ),
)


def _by_rule(inventory: Inventory) -> dict[str, object]:
    return {finding.rule: finding for finding in evaluate(inventory, RULES, TODAY)}


def test_an_up_to_date_program_still_running_its_old_version_needs_a_restart():
    waiting = PendingRestart(
        "firefox", "program", "/usr/lib/firefox-esr", Version("153.7.0esr"), None, "running since before the update"
    )
    firefox = _by_rule(_inventory(waiting))["firefox-esr"]
    assert firefox.status == "restart"
    assert firefox.blocking
    assert firefox.restart == "running since before the update"
    assert firefox.remedy == "Close every Firefox ESR window and open it again (or restart the computer)"
    assert firefox.message == "Firefox ESR 153.7.0esr is installed, but an older version is still running"


def test_when_what_runs_is_known_to_meet_the_minimum_it_is_only_a_note():
    waiting = PendingRestart(
        "firefox", "program", "/usr/lib/firefox-esr", Version("153.7.0esr"), Version("153.6.1esr"), "newer build"
    )
    firefox = _by_rule(_inventory(waiting))["firefox-esr"]
    assert (firefox.status, firefox.restart, firefox.blocking) == ("ok", "newer build", False)
    older = waiting.replace(running=Version("153.5.0esr"))
    assert _by_rule(_inventory(older))["firefox-esr"].status == "restart"


def test_a_system_restart_concerns_the_os_finding_only():
    reboot = PendingRestart("debian", "system", "/run/reboot-required", None, None, "the system needs a restart")
    findings = _by_rule(_inventory(reboot))
    assert findings["debian"].status == "restart"
    assert findings["debian"].remedy == "Restart the computer"
    assert findings["firefox-esr"].status == "ok"
    assert findings["firefox-esr"].restart is None


def test_a_program_restart_for_another_copy_is_not_this_ones():
    elsewhere = PendingRestart("firefox", "program", "/opt/firefox", Version("153.7.0esr"), None, "replaced")
    assert _by_rule(_inventory(elsewhere))["firefox-esr"].status == "ok"


@pytest.fixture
def rebooting_ubuntu(tmp_path: Path) -> Path:
    """Ubuntu 24.04 (a fixture machine) after unattended-upgrades installed a kernel: update-notifier's
    /run/reboot-required files, as it writes them."""
    root = tmp_path / "root"
    shutil.copytree(UBUNTU, root, symlinks=True)
    (root / "run").mkdir(exist_ok=True)
    (root / "run" / "reboot-required").write_text("*** System restart required ***\n")
    (root / "run" / "reboot-required.pkgs").write_text("linux-image-6.8.0-49-generic\nlinux-base\n")
    return root


def _check(run_cli, root: Path, fmt: str):
    return run_cli("--root", str(root), "--platform", "linux", "--format", fmt)


def test_the_report_carries_the_restart(run_cli, rebooting_ubuntu: Path):
    run = _check(run_cli, rebooting_ubuntu, "json")
    report = run.json()
    schema = json.loads((ROOT / "agent" / "clientcheck" / "data" / "report.schema.json").read_text())
    jsonschema.validate(report, schema)
    assert run.status == 1
    os_finding = next(f for f in report["findings"] if f["product"] == "ubuntu")
    assert os_finding["status"] == "restart"
    assert os_finding["restart"].startswith("the system needs a restart: /run/reboot-required (")
    assert report["restarts"][0]["kind"] == "system"
    assert report["summary"]["restart"] == 1
    assert report["summary"]["status"] == "owed"


def test_every_format_says_so(run_cli, rebooting_ubuntu: Path):
    text = _check(run_cli, rebooting_ubuntu, "text").out
    assert "Restart needed (updates installed, not yet in effect):" in text
    assert "How: Restart the computer" in text
    nagios = _check(run_cli, rebooting_ubuntu, "nagios")
    assert nagios.status == 2
    assert "restart needed for installed updates: Ubuntu" in nagios.out
    assert "'restart'=1;;0;0" in nagios.out
    assert (
        'clientcheck_restart_pending{product="ubuntu",kind="system"} 1'
        in _check(run_cli, rebooting_ubuntu, "prometheus").out
    )
    assert "(restart needed)" in _check(run_cli, rebooting_ubuntu, "jamf").out
    rows = list(csv.DictReader(io.StringIO(_check(run_cli, rebooting_ubuntu, "csv").out)))
    assert [row["status"] for row in rows if row["restart"]] == ["restart"]
    assert json.loads(_check(run_cli, rebooting_ubuntu, "intune").out)["UpdatesOwed"] >= 1
    assert json.loads(_check(run_cli, rebooting_ubuntu, "ansible").out)["counts"]["restart"] == 1
    assert "Restart needed" in _check(run_cli, rebooting_ubuntu, "html").out
    inventory = run_cli("inventory", "--root", str(rebooting_ubuntu), "--platform", "linux", "--format", "json")
    assert inventory.json()["restarts"][0]["kind"] == "system"


def test_the_login_notice_asks_for_the_restart_in_the_persons_language():
    reboot = PendingRestart("debian", "system", "/run/reboot-required", None, None, "the system needs a restart")
    inventory = _inventory(reboot)
    rules = RulesInfo("bundled", 1, "0" * 64, "Test IT", TODAY, dt.date(2027, 1, 31))
    now = dt.datetime(2026, 11, 25, 9, tzinfo=dt.timezone.utc)
    report = Report(now, inventory, evaluate(inventory, RULES, TODAY, "fr"), rules, "fr")
    shown = notice(report, None)
    assert shown is not None
    assert shown.body.endswith(": redémarrer l'ordinateur pour terminer les mises à jour")
