"""What the collector tests share: real ``clientcheck-server serve`` processes on 127.0.0.1 (started the way
the server's own tests start them: server/servertest.py), a private PostgreSQL, and agents.

An agent here is the real shipping code (``collector.shipping.Session``) over a collector folder of the
test's own, talking real HTTP through the agent's one HTTPS client; only its clock, its sleep and the
machine it claims to be are its own, so a test can let a week pass, or skew a clock, in seconds. Every
request it makes is recorded with its answer. The command-line tests run the real ``clientcheck`` too.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from clientcheck.collector.folder import Collector
from clientcheck.collector.shipping import Result, Session, Setup
from clientcheck.inspect.identity import MachineIdentity, hint
from clientcheck.net.messages import FetchError

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))
import servertest  # noqa: E402 - the server's own test helpers, from server/
from servertest import PG_BIN, Postgres, Server, cli, real_report, with_finding  # noqa: E402
from servertest import self_signed_certificate as self_signed_certificate  # noqa: E402 - for the tests

__all__ = ["PG_BIN", "Postgres", "Server", "cli", "real_report", "with_finding"]


class Exchange:
    """One request an agent made, and what came of it."""

    def __init__(self, at: dt.datetime, kind: str, report_id: str | None) -> None:
        self.at = at  # the agent's clock when it sent it
        self.kind = kind  # "enroll" or "report"
        self.report_id = report_id
        self.status: int | None = None  # None: no answer came
        self.outcome: str | None = None  # a 202's outcome, or an error answer's "error"
        self.retry_after: float | None = None
        self.failure: str | None = None

    def __repr__(self) -> str:
        return f"Exchange({self.at:%H:%M:%S} {self.kind} {self.report_id} {self.status} {self.outcome} {self.failure})"


class Agent:
    """The agent's shipping code over a folder of its own, with a clock of its own."""

    def __init__(
        self,
        folder: Path,
        server: str | None,
        *,
        hostname: str,
        secret_file: Path | None = None,
        now: dt.datetime | None = None,
        run_as: str = "machine",
        pseudonym: bool = False,
        boot_id: str = "boot-1",
        offline: bool = False,
    ) -> None:
        self.collector = Collector(str(folder / "collector"), run_as)
        self.collector.ensure()
        self.setup = Setup(server, str(secret_file) if secret_file else None, None, pseudonym, "linux")
        self.now = now or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        self.hostname = hostname
        self.machine_hint = hint(f"machine-id of {hostname}")
        self.boot_id = boot_id
        self.offline = offline  # the network is gone: every request fails before it leaves
        self.exchanges: list[Exchange] = []
        self.fraction = 0.5  # the backoff's random fraction, fixed so a test knows the waits

    # --- the seams the session is given ----------------------------------------------------------------

    def clock(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)

    def identity(self) -> MachineIdentity:
        return MachineIdentity(self.hostname, (self.machine_hint,), self.boot_id)

    def send(self, request: Any, policy: Any) -> Any:
        from clientcheck.net.https import send

        kind = "enroll" if request.url.endswith("/api/v1/enroll") else "report"
        report_id = None
        if kind == "report" and request.body:
            report_id = json.loads(gzip.decompress(request.body))["report_id"]
        exchange = Exchange(self.now, kind, report_id)
        self.exchanges.append(exchange)
        if self.offline:
            exchange.failure = "offline"
            raise FetchError(request.url, "cannot connect: [Errno 101] Network is unreachable")
        try:
            response = send(request, policy)
        except FetchError as failure:
            exchange.failure = failure.reason
            raise
        exchange.status = response.status
        try:
            body = json.loads(response.body) if response.body else {}
        except ValueError:
            body = {}
        exchange.outcome = body.get("outcome") or body.get("error")
        exchange.retry_after = response.retry_after()
        return response

    # --- what a test does with it ----------------------------------------------------------------------

    def session(self) -> Session:
        return Session(
            self.collector,
            self.setup,
            now=self.clock,
            sleep=self.sleep,
            fraction=lambda: self.fraction,
            send=self.send,
            identity=self.identity,
        )

    def ship(self, *, explicit: bool = False, patience: float = 0.0) -> Result:
        return self.session().run(explicit=explicit, patience=patience)

    def enroll(self, server: str, secret: str) -> None:
        self.session().enroll_with(server, secret, new_agent_id=False, ca_bundle=None)

    def spool(self, report: dict[str, Any]) -> str:
        """Judged now, by this agent's clock: its report goes into the spool; its id."""
        report = {**report, "generated_at": self.now.strftime("%Y-%m-%dT%H:%M:%SZ")}
        return self.collector.spool.add(json.dumps(report), self.now).entry.report_id

    def spooled(self) -> list[str]:
        return [entry.report_id for entry in self.collector.spool.entries()]

    def not_before(self) -> dt.datetime | None:
        text = self.collector.schedule().not_before
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None

    def wait_until_due(self) -> None:
        due = self.not_before()
        if due is not None and due > self.now:
            self.now = due

    def answered(self, status: int = 202) -> list[str]:
        return [item.report_id for item in self.exchanges if item.kind == "report" and item.status == status]


def variants(count: int, fixture: str = "debian-12-desktop") -> list[dict[str, Any]]:
    """``count`` real reports of one fixture machine, each different from the one before (Chrome updated
    step by step), as a machine judged over time would make them."""
    base = real_report(fixture, now=dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc))
    return [with_finding(base, "chrome", installed=f"131.0.{step}") for step in range(count)]


def seen_report_ids(data: Path) -> list[str]:
    """Every report id the SQLite store remembers (its idempotency memory: one row per report stored)."""
    with sqlite3.connect(f"file:{data / 'clientcheck.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT report_id FROM fleet_seenreport").fetchall()
    return [str(_uuid(row[0])) for row in rows]


def _uuid(value: Any) -> str:
    import uuid

    return str(uuid.UUID(hex=value) if isinstance(value, str) else uuid.UUID(bytes=value))


def api(server: Server, path: str) -> Any:
    token = getattr(server, "_token", None)
    if token is None:
        token = cli(server.data, "token", "create", database=server.database).stdout.strip()
        server._token = token  # type: ignore[attr-defined]
    answer = servertest.api(server, token, path)
    assert answer.status == 200, answer
    return answer.json()


# --- fixtures (imported by the test modules that use them) ------------------------------------------------


@pytest.fixture(scope="session")
def server_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A data folder migrated once, with a first secret; each test copies it (migrating costs seconds)."""
    template = tmp_path_factory.mktemp("collector-template") / "data"
    cli(template, "migrate")
    secret = cli(template, "secret", "create", "--name", "first").stdout.strip()
    return template, secret


@pytest.fixture
def start_server(server_template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Start ``clientcheck-server serve`` on a copy of the template (``settings``: lines for server.toml;
    ``tls``: its certificate and key); every server started is stopped at the end."""
    started: list[Server] = []

    def start(
        name: str = "data",
        *,
        settings: str = "",
        workers: int = 2,
        tls: tuple[Path, Path] | None = None,
        **options: Any,
    ) -> Server:
        data = tmp_path / name
        if not data.exists():
            shutil.copytree(server_template[0], data)
            if settings:
                with (data / "server.toml").open("a", encoding="utf-8") as config:
                    config.write("\n" + settings + "\n")
        if tls is not None:
            options["args"] = (*options.get("args", ()), "--certfile", str(tls[0]), "--keyfile", str(tls[1]))
        server = Server(data, workers=workers, **options)
        if "database" not in options:  # a new database prints its own first secret
            server.first_secret = server_template[1]
        started.append(server)
        if tls is not None:
            server.url = server.url.replace("http://", "https://")
            monkeypatch.setenv("CLIENTCHECK_TEST_CA", str(tls[0]))  # for servertest's own requests
        return server.wait_ready()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def secret_file(server_template, tmp_path: Path) -> Path:
    path = tmp_path / "enroll-secret"
    path.write_text(server_template[1] + "\n")
    path.chmod(0o600)
    return path
