"""Fixtures for the server's tests (helpers in servertest.py).

It lives inside the package, not in server/, so that pytest imports it as clientcheck_server.conftest:
the agent's tests import their own tests/conftest.py by the plain name ``conftest``, which a second
top-level conftest would take over. pytest-django sets Django up from the environment set here, at the
start of the first test; Django itself is set up here, since the test modules import models.

In-process tests (pytest-django) run against an in-memory SQLite database with settings read from a data
folder made here. System tests start real ``clientcheck-server serve`` processes on 127.0.0.1 and talk
HTTP to them; PostgreSQL tests start their own PostgreSQL server and stop it afterwards. Nothing here reads
the caller's environment: the processes get an environment made here.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import django
import pytest

from servertest import PG_BIN, Postgres, Server, cli, missing

# In-process Django: settings from a data folder of our own, never the caller's.
_DATA = Path(tempfile.mkdtemp(prefix="clientcheck-server-tests-"))
atexit.register(shutil.rmtree, _DATA, ignore_errors=True)
for _name in list(os.environ):
    if _name.startswith("CLIENTCHECK_SERVER_") or _name == "PROMETHEUS_MULTIPROC_DIR":
        del os.environ[_name]
os.environ["CLIENTCHECK_SERVER_DATA"] = str(_DATA)
os.environ["DJANGO_SETTINGS_MODULE"] = "clientcheck_server.settings"
(_DATA / "server.toml").write_text('secret_key = "tests-only-not-secret"\n', encoding="utf-8")

# Now, while collecting: the test modules import models. pytest-django finds Django set up and adds its
# test database and fixtures.
django.setup()
# Read once, by the settings: not left for the agent's tests, whose subprocesses inherit this environment.
del os.environ["CLIENTCHECK_SERVER_DATA"]


@pytest.fixture
def servers():
    started: list[Server] = []

    def start(data: Path, **options: Any) -> Server:
        server = Server(data, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder migrated once, with a first secret; tests copy it (migrating costs seconds of fsync)."""
    template = tmp_path_factory.mktemp("template") / "data"
    cli(template, "migrate")
    secret = cli(template, "secret", "create", "--name", "first").stdout.strip()
    (template.parent / "first-secret").write_text(secret)
    return template


@pytest.fixture
def migrated_data(migrated_template: Path, data_dir: Path) -> Path:
    shutil.copytree(migrated_template, data_dir)
    return data_dir


@pytest.fixture
def server(servers, migrated_data: Path, migrated_template: Path) -> Server:
    started = servers(migrated_data).wait_ready()
    started.first_secret = (migrated_template.parent / "first-secret").read_text()
    return started


@pytest.fixture(scope="session")
def postgres():
    if not (PG_BIN / "initdb").exists():
        missing(f"PostgreSQL 15 is not installed ({PG_BIN})")
    # Under /tmp itself, not pytest's folder: that one is root's alone, and the cluster belongs to postgres.
    root = Path(tempfile.mkdtemp(prefix="clientcheck-postgres-"))
    cluster = Postgres(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
