"""What the server's tests share: real reports, envelopes, an agent's side of the wire, serve processes, a
PostgreSQL server of their own.

In-process tests (pytest-django) run against an in-memory SQLite database with settings read from a data
folder made here. System tests start real ``clientcheck-server serve`` processes on 127.0.0.1 and talk
HTTP to them; PostgreSQL tests start their own PostgreSQL server (initdb into a temporary folder, as the
``postgres`` user when run as root, on a private port) and stop it afterwards. Nothing here reads the
caller's environment: the processes get an environment made here.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import gzip
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

SERVER = Path(__file__).resolve().parent
REPO = SERVER.parent
LINUX_FIXTURES = REPO / "tests" / "fixtures" / "linux"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
CI = os.environ.get("CI") == "true"
_HOME = tempfile.mkdtemp(prefix="clientcheck-server-home-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)


def missing(what: str) -> None:
    """A prerequisite is missing: a failure under CI, a skip elsewhere."""
    if CI:
        pytest.fail(f"{what} (CI must install it: .ci/run)")
    pytest.skip(what)


# --------------------------------------------------------------------------------------------- reports


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(cert.pem, key.pem) in ``folder``: a P-256 certificate for 127.0.0.1, valid two days, made by the
    real openssl, for a server (or mail server) under test to speak TLS."""
    if shutil.which("openssl") is None:
        missing("openssl is not installed (apt-get install openssl)")
    key, cert = folder / "key.pem", folder / "cert.pem"
    request = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    names = ["-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run([*request, *names, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def canonical_hash(report: dict[str, Any]) -> str:
    """The content hash as docs/collector-protocol.md defines it, written out independently here."""
    stripped = {k: v for k, v in report.items() if k not in ("generated_at", "report_id")}
    text = json.dumps(stripped, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_REPORTS: dict[str, dict[str, Any]] = {}


def real_report(fixture: str = "debian-12-desktop", *, now: dt.datetime | None = None) -> dict[str, Any]:
    """A report the real agent writes for one of its fixture machines (tests/fixtures/linux)."""
    from clientcheck.cli import main
    from clientcheck.config import Places

    now = now or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    key = f"{fixture}@{now.isoformat()}"
    if key not in _REPORTS:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "report.json"
            nowhere = Path(folder) / "none.toml"
            places = Places(machine=str(nowhere), user=None, managed=str(nowhere))
            root = LINUX_FIXTURES / fixture / "root"
            main(
                ["check", "--format", "json", "--root", str(root), "--platform", "linux", "--output", str(out)],
                env={},
                now=now,
                places=places,
            )
            _REPORTS[key] = json.loads(out.read_text(encoding="utf-8"))
    return json.loads(json.dumps(_REPORTS[key]))


def envelope(
    report: dict[str, Any],
    *,
    agent_id: str,
    hostname: str = "ws-001",
    hints: list[str] | None = None,
    boot_id: str | None = "boot-1",
    report_id: str | None = None,
) -> dict[str, Any]:
    return {
        "envelope": "clientcheck.envelope/1",
        "report_id": report_id or str(uuid.uuid4()),
        "agent_id": agent_id,
        "content_hash": canonical_hash(report),
        "hostname": hostname,
        "hints": hints if hints is not None else [hint(hostname)],
        "boot_id": boot_id,
        "agent_version": report["agent"]["version"],
        "run_as": "machine",
        "report": report,
    }


def hint(machine: str) -> str:
    return hashlib.sha256(f"machine-id:{machine}".encode()).hexdigest()


def with_finding(report: dict[str, Any], rule: str, **changes: Any) -> dict[str, Any]:
    """A copy of the report with one rule's findings changed (status, installed, deadline…), still valid; a
    new installed version is the version of that installation in the software list too."""
    copy = json.loads(json.dumps(report))
    found = False
    for finding in copy["findings"]:
        if finding["rule"] == rule:
            if "installed" in changes:
                for item in copy["software"]:
                    if item["product"] == finding["product"] and item["version"] == finding["installed"]:
                        item["version"] = changes["installed"]
            finding.update(changes)
            found = True
    assert found, f"no finding of rule {rule!r} in the report"
    return copy


# ------------------------------------------------------------------------------------------------- HTTP


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.body[:300]!r})"


def request(
    url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https":
        import ssl

        context = ssl.create_default_context(cafile=os.environ.get("CLIENTCHECK_TEST_CA"))
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


class Agent:
    """What an agent does on the wire, per docs/collector-protocol.md: enroll, then ship reports."""

    def __init__(self, url: str, hostname: str = "ws-001", *, machine: str | None = None) -> None:
        self.url = url
        self.hostname = hostname
        self.agent_id = str(uuid.uuid4())
        self.hints = [hint(machine or hostname)]
        self.boot_id = "boot-" + hostname
        self.key: str | None = None

    def enroll(self, secret: str, **extra: Any) -> Answer:
        body = {
            "secret": secret,
            "agent_id": self.agent_id,
            "hostname": self.hostname,
            "hints": self.hints,
            "boot_id": self.boot_id,
            "platform": "linux",
            "agent_version": "0.1.0",
            **extra,
        }
        answer = request(
            self.url, "POST", "/api/v1/enroll", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        if answer.status == 200:
            self.key = answer.json()["host_key"]
        return answer

    def envelope(self, report: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        document = envelope(
            report, agent_id=self.agent_id, hostname=self.hostname, hints=self.hints, boot_id=self.boot_id
        )
        document.update(overrides)
        return document

    def ship(
        self,
        report: dict[str, Any] | None = None,
        *,
        document: dict[str, Any] | None = None,
        gzipped: bool = False,
        key: str | None = None,
    ) -> Answer:
        document = document if document is not None else self.envelope(report or real_report())
        body = json.dumps(document).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key or self.key}"}
        if gzipped:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return request(self.url, "POST", "/api/v1/reports", body, headers)


# --------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": _HOME,
    }
    env.update(extra)
    return env


def cli_path() -> str:
    path = Path(sys.executable).parent / "clientcheck-server"
    if not path.exists():
        pytest.fail("clientcheck-server is not installed in this environment: pip install './server[test]'")
    return str(path)


def cli(
    data: Path, *args: str, database: str | None = None, input: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    command = [cli_path(), "--data", str(data)]
    if database:
        command += ["--database", database]
    done = subprocess.run(
        [*command, *args], env=clean_env(), capture_output=True, text=True, input=input, timeout=300, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"clientcheck-server {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done


class Server:
    """One ``clientcheck-server serve`` process (gunicorn's arbiter, its workers, the housekeeper) in its
    own process group, so a test can stop or kill exactly what it started."""

    def __init__(
        self,
        data: Path,
        *,
        database: str | None = None,
        workers: int = 2,
        port: int | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.data = data
        self.database = database
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data.parent / f"serve-{self.port}.log"
        command = [
            cli_path(),
            "--data",
            str(data),
            "serve",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            *args,
        ]
        if database:
            command[1:1] = ["--database", database]
        self.stream = open(self.log, "w+", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            env=clean_env(),
            stdout=self.stream,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 90) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.output()}")
            with contextlib.suppress(OSError):
                if request(self.url, "GET", "/healthz", timeout=5).status == 200:
                    return self
            time.sleep(0.2)
        raise AssertionError(f"serve did not become ready:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    first_secret: str | None = None

    def secret(self) -> str:
        if self.first_secret:
            return self.first_secret
        for line in self.output().splitlines():
            if line.strip().startswith("ccs_"):
                return line.strip()
        raise AssertionError(f"no first secret printed:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        # Whatever the arbiter left (workers, the housekeeper) is in its group: gone too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.stream.close()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


def api(server: Server, token: str, path: str) -> Answer:
    return request(server.url, "GET", path, headers={"Authorization": f"Bearer {token}"})


# ------------------------------------------------------------------------------------------ PostgreSQL


class Postgres:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "cluster"
        self.sockets = root / "sockets"
        self.port = free_port()
        self.owner = "postgres" if os.geteuid() == 0 else None
        self.count = 0

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        if self.owner:
            command = ("/usr/sbin/runuser", "-u", self.owner, "--", *command)
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
            cwd="/",
        )

    def start(self) -> None:
        self.sockets.mkdir(parents=True)
        if self.owner:
            shutil.chown(self.root, self.owner)
            shutil.chown(self.sockets, self.owner)
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        self.run_server()

    def run_server(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=on "
            "-c synchronous_commit=on -c max_connections=200"
        )
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "postgres.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def database(self) -> str:
        """A new, empty database; its URL."""
        self.count += 1
        name = f"clientcheck{self.count}"
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"
