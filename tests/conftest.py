from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from clientcheck.cli import main

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
LINUX_FIXTURES = FIXTURES / "linux"
DESIGN_EXAMPLE = REPO / "rules" / "examples" / "design-example.json"
DEFAULT_RULES = REPO / "rules" / "default.json"
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)


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
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run the command line in-process with a fixed clock and an empty environment (no user locale)."""

    def run(*args: str, env: dict[str, str] | None = None, now: dt.datetime = NOW) -> Run:
        status = main(list(args), env=env if env is not None else {}, now=now)
        captured = capsys.readouterr()
        return Run(status, captured.out, captured.err)

    return run
