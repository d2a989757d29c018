"""The server's code standards, checked with its tests so CI enforces them: mypy --strict with django-stubs
(tests/test_quality.py runs ruff over the whole repository, the server included). The server runs on
POSIX systems only (gunicorn, fcntl), so it is type-checked for Linux."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from servertest import SERVER, clean_env


def test_mypy_strict_with_django_stubs(tmp_path: Path):
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent))
    if mypy is None:
        pytest.fail("mypy is not installed: pip install './server[test]'")
    (tmp_path / "server.toml").write_text('secret_key = "type-checking"\n')
    # The django-stubs plugin imports the settings: they read a data folder of this test's own.
    env = clean_env(CLIENTCHECK_SERVER_DATA=str(tmp_path))
    done = subprocess.run(
        [mypy, "--no-incremental", "--cache-dir", str(tmp_path / "cache")],
        cwd=SERVER,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
