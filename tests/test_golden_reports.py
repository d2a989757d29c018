"""Golden reports: every fixture machine, checked with a fixed clock and ``--as-of``, must print exactly the
bytes committed under tests/golden/ (standard output byte for byte, and the exit status and standard error
in ``outcomes.json``). A change made for speed (a launcher, another JSON encoder, leaner reads) must leave
every report as it was; a change meant to alter a report regenerates the files and shows the diff in review:

    .venv/bin/pytest -q -p no:cacheprovider tests/test_golden_reports.py --update-goldens

(``--update-goldens`` is a pytest option of tests/conftest.py, not an environment variable: no test depends
on the caller's environment.)

Each run is the command line in-process (``cli.main``), the one place the clock is given (``now``), with an
empty environment (no user locale: ``--lang`` is explicit), no configuration files and the bundled rules
(the default path). Output is captured at the file-descriptor level as bytes (``capfdbinary``), so it
stays the same whether the agent writes through ``sys.stdout``, its buffer or ``os.write``. The fixtures are
named relative to the repository (the run's working folder), so no report or message holds the checkout's
own path. Updating the bundled rules changes every report (their digest is in each), and so does the
agent's version: regenerate then.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clientcheck.cli import main
from clientcheck.config import Places
from clientcheck.config.table import FORMATS
from conftest import FIXTURES, REPO, missing

GOLDEN = Path(__file__).resolve().parent / "golden"
OUTCOMES = GOLDEN / "outcomes.json"
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)
AS_OF = "2026-11-26"  # not the clock's day: --as-of must win where the two differ
EXTENSIONS = {
    "text": "txt",
    "json": "json",
    "html": "html",
    "nagios": "nagios.txt",
    "prometheus": "prom",
    "jamf": "jamf.xml",
    "intune": "intune.json",
    "csv": "csv",
    "ansible": "ansible.json",
}
EVERY_FORMAT = ("linux/debian-12-desktop", "windows/windows-11-24h2", "macos/macos-15-sequoia")
SOME_FORMATS = ("json", "text", "html")
GERMAN = "linux/debian-12-desktop"


def _machines() -> dict[str, list[str]]:
    """Each fixture machine by name (``linux/debian-12-desktop``), with the arguments that inspect it; paths
    relative to the repository."""
    machines: dict[str, list[str]] = {}
    for platform in ("linux", "macos", "windows"):
        for case in sorted((FIXTURES / platform).iterdir()):
            relative = case.relative_to(REPO)
            args = ["--platform", platform]
            if (case / "registry.reg").is_file():
                args += ["--registry", str(relative / "registry.reg")]
            if (case / "root").is_dir():
                args += ["--root", str(relative / "root")]
            if len(args) > 2:
                machines[f"{platform}/{case.name}"] = args
    return machines


MACHINES = _machines()
CASES = [
    (machine, format_name, "en")
    for machine in MACHINES
    for format_name in (FORMATS if machine in EVERY_FORMAT else SOME_FORMATS)
] + [(GERMAN, format_name, "de") for format_name in SOME_FORMATS]


def _name(machine: str, format_name: str, lang: str) -> str:
    return f"{machine.replace('/', '--')}.{lang}.{EXTENSIONS[format_name]}"


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest):
    """The committed exit statuses and standard errors; under --update-goldens, collected and written back
    when the module ends (the cases of this run replace theirs, the others are kept)."""
    known = json.loads(OUTCOMES.read_text(encoding="utf-8")) if OUTCOMES.is_file() else {}
    yield known
    if request.config.getoption("update_goldens"):
        lines = (f"{json.dumps(name)}: {json.dumps(known[name], ensure_ascii=False)}" for name in sorted(known))
        OUTCOMES.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")  # a line per case


def test_every_fixture_machine_has_a_golden_case():
    # A new fixture tree gets goldens too (or this says which arguments it would need).
    assert len(MACHINES) == sum(
        1 for platform in ("linux", "macos", "windows") for case in (FIXTURES / platform).iterdir() if case.is_dir()
    )
    assert {format_name for _machine, format_name, _lang in CASES} == set(FORMATS)


@pytest.mark.parametrize(("machine", "format_name", "lang"), CASES, ids=lambda value: str(value))
def test_report_is_byte_for_byte_the_golden_one(
    machine: str,
    format_name: str,
    lang: str,
    outcomes: dict[str, dict[str, object]],
    capfdbinary: pytest.CaptureFixture[bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
):
    monkeypatch.chdir(REPO)
    nowhere = tmp_path / "no-config"
    places = Places(machine=str(nowhere / "machine.toml"), user=None, managed=str(nowhere / "managed.toml"))
    env = {"CLIENTCHECK_CACHE_DIR": str(tmp_path / "cache"), "CLIENTCHECK_STATE_DIR": str(tmp_path / "state")}
    argv = ["check", *MACHINES[machine], "--as-of", AS_OF, "--lang", lang, "--format", format_name]
    capfdbinary.readouterr()  # nothing before the run counts
    status = main(argv, env=env, now=NOW, places=places)
    captured = capfdbinary.readouterr()
    name = _name(machine, format_name, lang)
    outcome = {"argv": argv, "status": status, "stderr": captured.err.decode("utf-8", errors="backslashreplace")}
    if request.config.getoption("update_goldens"):
        GOLDEN.mkdir(exist_ok=True)
        (GOLDEN / name).write_bytes(captured.out)
        outcomes[name] = outcome
        return
    if not (GOLDEN / name).is_file():
        pytest.fail(f"no golden file {name}: run with --update-goldens and review the new file")
    assert captured.out == (GOLDEN / name).read_bytes(), f"{name} differs from the golden report"
    assert outcome == outcomes[name]


# The formats that hold no clock (the day judged for is --as-of): the installed console script, run as a
# process with the real clock, must print the same bytes, so a launcher of its own is held to the goldens too.
CLOCKLESS = ("text", "csv", "nagios", "intune", "jamf")
PROCESS_CASES = [case for case in CASES if case[1] in CLOCKLESS]


@pytest.mark.parametrize(("machine", "format_name", "lang"), PROCESS_CASES, ids=lambda value: str(value))
def test_the_installed_command_prints_the_golden_report(
    machine: str, format_name: str, lang: str, outcomes: dict[str, dict[str, object]], request: pytest.FixtureRequest
):
    if request.config.getoption("update_goldens"):
        pytest.skip("the goldens are written by the in-process runs")
    script = shutil.which("clientcheck", path=os.path.dirname(sys.executable))
    if script is None:
        missing(f"clientcheck is not installed next to {sys.executable} (pip install -e .)")
    name = _name(machine, format_name, lang)
    argv = ["check", *MACHINES[machine], "--as-of", AS_OF, "--lang", lang, "--format", format_name]
    golden = (GOLDEN / name).read_bytes()
    proc = subprocess.run([script, *argv], cwd=REPO, capture_output=True, check=False)
    assert proc.stdout == golden, f"{name}: the installed command differs from the golden report"
    assert {"argv": argv, "status": proc.returncode, "stderr": proc.stderr.decode("utf-8")} == outcomes[name]


def test_no_golden_file_is_left_over():
    # A golden file no case compares any more would make the set look larger than it is.
    expected = {_name(*case) for case in CASES} | {OUTCOMES.name}
    assert {path.name for path in GOLDEN.iterdir()} == expected
