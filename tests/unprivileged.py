"""Running a piece of clientcheck as another, ordinary user, from a test that runs as root (as CI does).

The test's own Python may sit where an ordinary user cannot reach it (a pyenv under /root): then the
system's Python runs the checkout's code instead (the modules these tests load need only the standard
library). Without root, or without any Python the user can run, the test cannot do its job: it fails
under CI=true, and is skipped elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

AGENT = Path(__file__).resolve().parent.parent / "agent"
_found: dict[int, str] = {}


def need_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs the tests as root: this one must run there")
        pytest.skip("needs root, to make files owned by other users")


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(AGENT), **(extra or {})}


def python_for(uid: int) -> str:
    """A Python interpreter ``uid`` can run, with which it can import the checkout's clientcheck."""
    need_root()
    if uid in _found:
        return _found[uid]
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        probe = [candidate, "-c", "import sys, clientcheck.deliver; assert sys.version_info >= (3, 10)"]
        try:
            proc = subprocess.run(
                probe, env=_environment(), user=uid, group=uid, extra_groups=[], capture_output=True, timeout=60
            )
        except OSError:
            continue
        if proc.returncode == 0:
            _found[uid] = candidate
            return candidate
    message = f"no Python here that uid {uid} can run with the checkout's clientcheck"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run_as(uid: int, code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (Python) as ``uid`` (and its group of the same number, and no other groups)."""
    return subprocess.run(
        [python_for(uid), "-c", code, *args],
        env=_environment(env),
        user=uid,
        group=uid,
        extra_groups=[],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
