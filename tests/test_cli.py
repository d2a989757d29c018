"""The command line, in-process (fast, exact) and as the installed console script (as users run it)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

import clientcheck
from clientcheck import cli
from clientcheck import dates as dt
from conftest import DESIGN_EXAMPLE, LINUX_FIXTURES, require_tool


def _debian_root() -> str:
    root = LINUX_FIXTURES / "debian-12-desktop" / "root"
    if not root.is_dir():
        pytest.skip("debian-12-desktop fixture not present")
    return str(root)


def test_version(run_cli):
    result = run_cli("--version")
    assert result.status == 0
    assert result.out.strip() == f"clientcheck {clientcheck.__version__}"


@pytest.mark.parametrize(
    ("args", "first_line", "mentions"),
    [
        pytest.param(
            ["--help"], "usage: clientcheck [COMMAND] [OPTIONS]", ["rules validate", "Exit status: 0"], id="top"
        ),
        pytest.param(
            ["check", "--help"],
            "usage: clientcheck check [OPTIONS]",
            ["--as-of DATE", "-f, --format {text,json,html,nagios,prometheus,jamf,intune,csv,ansible}"],
            id="check",
        ),
        pytest.param(["inventory", "-h"], "usage: clientcheck inventory [OPTIONS]", ["--root DIR"], id="inventory"),
        pytest.param(["rules", "--help"], "usage: clientcheck rules [OPTIONS]", ["validate"], id="rules"),
        pytest.param(
            ["rules", "validate", "--help"],
            "usage: clientcheck rules validate [OPTIONS] FILE",
            ["FILE"],
            id="rules-validate",
        ),
    ],
)
def test_help_is_printed_and_exits_0(run_cli, args, first_line, mentions):
    result = run_cli(*args)
    assert result.status == 0
    assert result.out.splitlines()[0] == first_line
    for text in mentions:
        assert text in result.out


def test_option_spellings(run_cli, tmp_path):
    for args in (["--format=json"], ["-f", "json"], ["check", "--format", "json"], ["--format", "json", "check"]):
        if args[-1] == "check":
            continue  # a command must come first; options after it
        assert run_cli(*args).json()["schema"] == "clientcheck.report/1", args
    target = tmp_path / "r.json"
    run_cli("-o", str(target), "--format=json")
    assert target.is_file()


def test_no_arguments_checks_this_machine_with_the_bundled_rules(run_cli):
    result = run_cli()
    assert result.status in (0, 1)
    assert "Rules: bundled (clientcheck bundled defaults" in result.out
    assert result.err == ""


def test_options_without_a_command_mean_check(run_cli):
    report = run_cli("--format", "json").json()
    assert report["schema"] == "clientcheck.report/1"
    assert report["rules"]["source"] == "bundled"


def test_a_captured_machine_with_owed_updates_exits_1(run_cli):
    result = run_cli(
        "check", "--root", _debian_root(), "--platform", "linux", "--rules", str(DESIGN_EXAMPLE), "--format", "json"
    )
    report = result.json()
    assert result.status == 1
    assert report["summary"]["status"] == "owed"
    owed = {f["rule"] for f in report["findings"] if f["status"] == "owed"}
    assert "firefox-esr" in owed


def test_text_report_lists_owed_first_with_what_to_do(run_cli):
    result = run_cli("--root", _debian_root(), "--platform", "linux", "--rules", str(DESIGN_EXAMPLE))
    lines = result.out.splitlines()
    assert lines[0].endswith("owed on this computer (Debian GNU/Linux 12.8).")
    assert lines[2] == "Updates owed:"
    assert any(line.strip().startswith("How: sudo apt update") for line in lines)
    assert lines[-1].startswith("Rules: ")


def test_messages_in_the_requested_language(run_cli):
    args = ("--root", _debian_root(), "--platform", "linux", "--rules", str(DESIGN_EXAMPLE), "--format", "json")
    german = run_cli(*args, "--lang", "de").json()
    from_env = run_cli(*args, env={"LANG": "de_DE.UTF-8"}).json()
    for report in (german, from_env):
        esr = next(f for f in report["findings"] if f["rule"] == "firefox-esr")
        assert esr["message"] == "Aktualisieren Sie Firefox ESR"
        assert report["language"].startswith("de")


def test_as_of_previews_a_grace_deadline(run_cli):
    args = ("--root", _debian_root(), "--platform", "linux", "--rules", str(DESIGN_EXAMPLE), "--format", "json")
    before = run_cli(*args, "--as-of", "2026-11-20").json()
    after = run_cli(*args, "--as-of", "2026-12-02").json()
    status = {r: {f["rule"]: f["status"] for f in report["findings"]} for r, report in (("b", before), ("a", after))}
    assert status["b"]["chrome"] == "due"
    assert status["a"]["chrome"] == "owed"


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        pytest.param(
            ["--format", "xml"],
            2,
            "invalid value 'xml' for --format (choose from text, json, html, nagios, prometheus, jamf, intune, "
            "csv, ansible)",
            id="bad-format",
        ),
        pytest.param(["--format"], 2, "option --format needs a value", id="missing-value"),
        pytest.param(["--frobnicate"], 2, "unknown option '--frobnicate' for 'check'", id="unknown-option"),
        pytest.param(
            ["inventory", "--rules", "x"], 2, "unknown option '--rules' for 'inventory'", id="option-of-other-command"
        ),
        pytest.param(
            ["rules", "validate"], 2, "'rules validate' takes FILE, got 0 argument(s)", id="missing-positional"
        ),
        pytest.param(["rules", "sing"], 2, "unknown command 'rules sing'", id="unknown-subcommand"),
        pytest.param(["check", "extra"], 2, "'check' takes no arguments, got 1 argument(s)", id="stray-argument"),
        pytest.param(["frobnicate"], 2, "unknown command 'frobnicate'", id="bad-command"),
        pytest.param(["--platform", "linux"], 2, "--platform needs --root", id="platform-without-root"),
        pytest.param(["--root", "/nonexistent/tree"], 4, "not a directory", id="missing-root"),
        pytest.param(
            ["--root", "/", "--platform", "windows"],
            2,
            "a Windows --root tree needs its registry",
            id="windows-root-without-registry",
        ),
        pytest.param(
            ["--platform", "windows", "--root", "/", "--registry", "/nonexistent.reg"],
            4,
            "--registry /nonexistent.reg: cannot read",
            id="missing-registry-export",
        ),
        pytest.param(
            ["--registry", "x.reg", "--platform", "linux", "--root", "/"],
            2,
            "--registry is a Windows registry export",
            id="registry-with-linux",
        ),
        pytest.param(["--as-of", "2026-13-01"], 2, "--as-of: '2026-13-01' is not a date (YYYY-MM-DD)", id="bad-date"),
        pytest.param(["rules"], 2, "'rules' needs a command: validate", id="rules-without-command"),
    ],
)
def test_usage_and_input_errors_are_one_clear_line(run_cli, args, status, message):
    result = run_cli(*args)
    assert result.status == status
    assert result.out == ""
    first = result.err.splitlines()[0]
    assert first.startswith("clientcheck: error: ") and message in first
    assert "Traceback" not in result.err


def test_a_bad_rule_file_falls_back_to_the_bundled_rules_and_says_so(run_cli, tmp_path):
    bad = tmp_path / "rules.json"
    bad.write_text('{"schema": "clientcheck.rules/1", "rules": [}', encoding="utf-8")
    result = run_cli("--rules", str(bad), "--format", "json")
    assert result.status in (0, 1)
    assert result.err.startswith(f"clientcheck: warning: {bad}: line 1 column ")
    report = result.json()
    assert report["rules"]["source"] == "bundled"
    assert report["rules"]["fallback_reason"].startswith(f"{bad}: line 1 column")


def test_rules_validate_lists_every_problem_with_its_location(run_cli, tmp_path):
    bad = tmp_path / "rules.json"
    bad.write_text(
        json.dumps(
            {
                "schema": "clientcheck.rules/1",
                "publisher": "IT",
                "serial": 1,
                "published": "2026-11-20",
                "expires": "2027-02-28",
                "rules": [
                    {"id": "a", "product": "firefox", "minimum": "150"},
                    {"id": "b", "product": "x"},
                    {"id": "c", "product": "evince", "minimum": "43.1"},
                    {"id": "d", "product": "y", "minimum": "1..2"},
                ],
            }
        ),
        encoding="utf-8",
    )
    result = run_cli("rules", "validate", str(bad))
    assert result.status == 3
    assert result.out.splitlines() == [
        f"{bad}: rules[1]: needs 'minimum' or 'unsupported' (a rule without either checks nothing)",
        f"{bad}: rules[3].minimum: '1..2' is not a version",
        f"{bad}: invalid, 2 problems",
    ]


def test_rules_validate_accepts_the_design_example(run_cli):
    result = run_cli("rules", "validate", str(DESIGN_EXAMPLE))
    assert result.status == 0
    assert result.out == f"{DESIGN_EXAMPLE}: valid: 8 rules from Example Corp IT, serial 7, expires 2027-02-28\n"


def test_rules_validate_of_a_missing_file(run_cli, tmp_path):
    result = run_cli("rules", "validate", str(tmp_path / "nope.json"))
    assert result.status == 3
    assert "cannot read: No such file or directory" in result.out


def test_output_is_written_atomically_with_the_same_content(run_cli, tmp_path):
    target = tmp_path / "report.json"
    result = run_cli("--format", "json", "--output", str(target))
    assert result.out == ""
    report = json.loads(target.read_text(encoding="utf-8"))
    assert report["schema"] == "clientcheck.report/1"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left behind
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode == 0o666 & ~_umask()
    target.chmod(0o640)
    run_cli("--format", "json", "--output", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # replacing keeps the file's mode


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_output_into_a_missing_folder_fails_cleanly(run_cli, tmp_path):
    result = run_cli("--output", str(tmp_path / "missing" / "report.txt"))
    assert result.status == 5
    assert result.err.startswith("clientcheck: error: cannot write")
    assert not (tmp_path / "missing").exists()


def test_output_into_a_read_only_folder_leaves_nothing(tmp_path):
    # Root may write anywhere: as root, the run drops the capabilities that let it ignore permissions (it
    # stays uid 0, so it still reads this checkout, whoever may traverse the folders above it).
    unprivileged = []
    if os.geteuid() == 0:
        setpriv = require_tool("setpriv", "util-linux")
        unprivileged = [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--"]
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        proc = subprocess.run(
            [*unprivileged, sys.executable, "-m", "clientcheck", "--output", str(folder / "report.txt")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        folder.chmod(0o700)
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr == f"clientcheck: error: cannot write {folder / 'report.txt'}: Permission denied\n"
    assert list(folder.iterdir()) == []


def test_an_internal_error_is_a_message_not_a_traceback(run_cli, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("clientcheck.inspect.inspect_machine", broken)
    result = run_cli()
    assert result.status == 70
    assert result.err.splitlines()[0] == "clientcheck: internal error: RuntimeError: simulated bug"
    assert "Traceback" not in result.err


def test_the_debug_traceback_follows_the_environment_main_is_given(run_cli, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("clientcheck.inspect.inspect_machine", broken)
    monkeypatch.setenv("CLIENTCHECK_DEBUG", "1")  # the process's: not the run's
    assert "Traceback" not in run_cli(env={}).err
    monkeypatch.delenv("CLIENTCHECK_DEBUG")
    result = run_cli(env={"CLIENTCHECK_DEBUG": "1"})
    assert result.status == 70
    assert "Traceback (most recent call last)" in result.err and "RuntimeError: simulated bug" in result.err


def test_rules_validate_judges_expiry_by_the_runs_clock(run_cli):
    before = run_cli("rules", "validate", str(DESIGN_EXAMPLE), now=dt.datetime(2027, 2, 28, 23, tzinfo=dt.timezone.utc))
    assert before.status == 0 and "(expired)" not in before.out
    after = run_cli("rules", "validate", str(DESIGN_EXAMPLE), now=dt.datetime(2027, 3, 1, tzinfo=dt.timezone.utc))
    assert after.status == 0 and after.out.rstrip().endswith("expires 2027-02-28 (expired)")


def test_no_console_at_all_is_not_an_error(monkeypatch):
    # pythonw and some service managers run us with sys.stdout and sys.stderr set to None.
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    assert cli.main(["--format", "json"], env={}) in (0, 1)
    assert cli.main(["--format", "xml"], env={}) == 2


# The installed console script, as a user or a fleet tool runs it ------------------------------------------


def _script() -> str:
    path = shutil.which("clientcheck", path=os.path.dirname(sys.executable)) or shutil.which("clientcheck")
    assert path, "the clientcheck console script is not installed"
    return path


def test_console_script_check_json():
    proc = subprocess.run([_script(), "check", "--format", "json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert report["summary"]["status"] in ("ok", "due", "unknown", "owed")
    assert (proc.returncode == 1) == (report["summary"]["status"] == "owed")


def test_console_script_exit_status_for_owed_updates():
    proc = subprocess.run(
        [_script(), "--root", _debian_root(), "--platform", "linux", "--rules", str(DESIGN_EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Updates owed:" in proc.stdout


def test_python_dash_m_runs_the_same_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "clientcheck", "inventory", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["schema"] == "clientcheck.inventory/1"


def test_console_script_usage_error_status():
    proc = subprocess.run([_script(), "--format", "xml"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("clientcheck: error: ")


def test_console_script_survives_a_closed_pipe():
    # Like "clientcheck inventory | head -c 1": the reader goes away before we finish writing.
    proc = subprocess.Popen([_script(), "inventory"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before it writes anything, so its write meets a closed pipe
    proc.wait(timeout=60)
    assert b"Traceback" not in proc.stderr.read()


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux sysfs")
def test_output_into_a_folder_nobody_may_write_fails_cleanly(run_cli):
    # sysfs refuses new files even to root, so this runs in CI, which runs as root.
    target = "/sys/kernel/clientcheck-report.txt"
    result = run_cli("--output", target)
    assert result.status == 5
    assert result.err.startswith(f"clientcheck: error: cannot write {target}: ")
    assert not os.path.exists(target)
    assert not [name for name in os.listdir("/sys/kernel") if name.startswith(".clientcheck-report")]


def _closed_pipe() -> int:
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


def test_a_closed_stderr_changes_nothing(tmp_path):
    # A warning (an invalid --rules file) and a usage error, with nobody reading stderr.
    invalid = tmp_path / "rules.json"
    invalid.write_text("{", encoding="utf-8")
    write_end = _closed_pipe()
    try:
        owed = subprocess.run(
            [_script(), "--root", _debian_root(), "--platform", "linux", "--rules", str(invalid)],
            stdout=subprocess.PIPE,
            stderr=write_end,
            timeout=60,
        )
        usage = subprocess.run([_script(), "--bogus"], stdout=subprocess.PIPE, stderr=write_end, timeout=60)
    finally:
        os.close(write_end)
    assert owed.returncode == 1
    assert owed.stdout.startswith(b"3 updates owed")
    assert usage.returncode == 2


def test_a_closed_stdout_keeps_the_exit_status():
    write_end = _closed_pipe()
    try:
        proc = subprocess.run(
            [_script(), "--root", _debian_root(), "--platform", "linux"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 1  # the machine owes updates, whoever reads the report
    assert proc.stderr == b""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_behind_stdout_is_an_output_error():
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [_script(), "--format", "json"], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert proc.returncode == 5
    assert proc.stderr == "clientcheck: error: cannot write to standard output: No space left on device\n"


def test_an_os_no_rule_names_is_not_called_up_to_date(run_cli, tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=alpine\nNAME="Alpine Linux"\nVERSION_ID=3.12.0\n')
    result = run_cli("--root", str(root), "--platform", "linux")
    assert result.status == 0
    assert result.out.splitlines()[0] == "Nothing owed on this computer (Alpine Linux 3.12.0)."
    assert "Not covered by the rules: Alpine Linux 3.12.0" in result.out
    assert "All up to date" not in result.out


def test_deadlines_and_staleness_use_the_judged_day(run_cli):
    args = ("--root", _debian_root(), "--platform", "linux", "--rules", str(DESIGN_EXAMPLE))
    due = run_cli(*args, "--as-of", "2026-11-20")
    assert "needs 155.0 or newer\n      Owed from December 2: 12 days left\n" in due.out
    stale = run_cli(*args, "--as-of", "2027-03-10", "--format", "json").json()
    assert (stale["as_of"], stale["rules"]["stale"]) == ("2027-03-10", True)
    text = run_cli(*args, "--as-of", "2027-03-10")
    assert "Note: these rules expired on February 28, 2027 (10 days ago); newer minimums may exist" in text.out


def test_a_file_name_that_is_not_utf8_is_reported_not_fatal(run_cli, tmp_path):
    root = tmp_path / "root"
    applications = root / "home/u/.local/share/applications"
    applications.mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text("ID=debian\nNAME=Debian\nVERSION_ID=12\n")
    name = os.fsdecode(b"firefox-\xff.desktop")
    (applications / name).write_text("[Desktop Entry]\nType=Application\nExec=firefox %u\nCategories=WebBrowser;\n")
    for fmt in ("text", "json"):
        target = tmp_path / f"report.{fmt}"
        result = run_cli("inventory", "--root", str(root), "--platform", "linux", "--format", fmt, "-o", str(target))
        assert result.status == 0, result.err
        assert "\\udcff" in target.read_text(encoding="utf-8")
