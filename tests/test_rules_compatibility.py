"""A rule file that uses what agents of a later version understand must still load in the agents already
deployed: version 0.1.0 (commit f1c8946) rejects unknown keys but accepts "x-" ones, so stepped warnings
are ``x-clientcheck-steps``. Checked against 0.1.0's own code, taken from this repository's history and run
in a fresh interpreter that sees nothing else (``-I -S``: not this checkout, not site-packages)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from clientcheck.rules.validate import parse_rules
from conftest import FIXTURES, REPO, missing

RELEASE_0_1_0 = "f1c8946582c20e417a50851fcfd11924222939a2"
STEPPED = REPO / "rules" / "examples" / "stepped-warnings.json"
DEBIAN = FIXTURES / "linux" / "debian-12-desktop" / "root"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """agent/clientcheck as it was in 0.1.0, unpacked from the history."""
    folder = tmp_path_factory.mktemp("clientcheck-0.1.0")
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", RELEASE_0_1_0, "agent/clientcheck"],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except FileNotFoundError:
        missing("git is not installed (apt-get install git)")
    except subprocess.CalledProcessError as error:
        missing(f"0.1.0 ({RELEASE_0_1_0[:7]}) is not in this checkout's history: {error.stderr.decode()[:200]}")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    version = (folder / "agent" / "clientcheck" / "__init__.py").read_text()
    assert '__version__ = "0.1.0"' in version
    return folder / "agent"


def old_agent(release: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    code = (
        f"import sys; sys.path.insert(0, {str(release)!r})\n"
        "import clientcheck\n"
        f"assert clientcheck.__file__.startswith({str(release)!r}), clientcheck.__file__\n"
        "from clientcheck.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    # 0.1.0 knew fewer CLIENTCHECK_ variables than the tests set (an unknown one is a configuration error).
    env = {name: value for name, value in os.environ.items() if not name.startswith("CLIENTCHECK_")}
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_a_file_with_stepped_warnings_loads_in_0_1_0(release: Path):
    run = old_agent(release, "rules", "validate", str(STEPPED))
    assert (run.returncode, run.stderr) == (0, "")
    assert "valid: 5 rules from Example Corp IT, serial 8" in run.stdout
    # And in this version, which reads the steps.
    ruleset = parse_rules(STEPPED.read_bytes())
    assert [step.level for step in ruleset.steps or ()] == ["notice", "warning"]
    assert ruleset.rules[1].steps is not None and ruleset.rules[1].steps[1].days_left == 7


def test_0_1_0_would_refuse_steps_under_a_key_of_their_own(release: Path, tmp_path: Path):
    # Why the key starts with "x-": the deployed agents refuse every other key they do not know, and a file
    # they refuse is a file they fall back from.
    document = json.loads(STEPPED.read_text())
    document["steps"] = document.pop("x-clientcheck-steps")
    plain = tmp_path / "plain-key.json"
    plain.write_text(json.dumps(document))
    run = old_agent(release, "rules", "validate", str(plain))
    assert run.returncode == 3
    assert "steps: unknown key (extensions must start with 'x-')" in run.stdout + run.stderr


def test_0_1_0_judges_by_such_a_file_as_before(release: Path):
    # Four days before Chrome's deadline: 0.1.0 says "due" for the whole grace period, as it always has.
    run = old_agent(
        release, "check", "--rules", str(STEPPED), "--root", str(DEBIAN), "--platform", "linux", "--as-of", "2026-12-04"
    )
    assert (run.returncode, run.stderr) == (0, "")
    assert "needs 156.0 or newer before 2026-12-09" in run.stdout
    assert "needs 153.6 or newer before 2026-12-11" in run.stdout
