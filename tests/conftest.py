from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from clientcheck.cli import main
from clientcheck.config import Places

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
LINUX_FIXTURES = FIXTURES / "linux"
DESIGN_EXAMPLE = REPO / "rules" / "examples" / "design-example.json"
DEFAULT_RULES = REPO / "rules" / "default.json"
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)

# Property tests explore new inputs on a developer's machine (and remember failures in .hypothesis/), but
# CI runs the same examples every time: a test that fails there fails for everyone, not one run in fifty,
# and the failing input is printed to reproduce. bench/mutation.py runs the "mutation" profile, where a
# mutant must be killed or not by the same inputs each time it is tried.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("mutation", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "default"))


def linux_cases() -> list[Path]:
    return sorted(path for path in LINUX_FIXTURES.iterdir() if (path / "root").is_dir())


@dataclass
class Run:
    status: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory):
    """Run the command line in-process with a fixed clock, an empty environment (no user locale) and no
    configuration files (``places`` names others), whatever this machine has in /etc."""
    nowhere = tmp_path_factory.mktemp("no-config")
    empty = Places(machine=str(nowhere / "machine.toml"), user=None, managed=str(nowhere / "managed.toml"))

    def run(*args: str, env: dict[str, str] | None = None, now: dt.datetime = NOW, places: Places | None = None) -> Run:
        status = main(list(args), env=env if env is not None else {}, now=now, places=places or empty)
        captured = capsys.readouterr()
        return Run(status, captured.out, captured.err)

    return run
