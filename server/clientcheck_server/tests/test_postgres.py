"""clientcheck-server on a real PostgreSQL that the tests start themselves: several processes migrating
together, two servers sharing one database giving the result of one, the database going away under load,
backup and restore with pg_dump and pg_restore."""

from __future__ import annotations

import concurrent.futures
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from servertest import PG_BIN, Agent, Postgres, api, cli, missing, real_report, request, with_finding

pytestmark = pytest.mark.postgres


def _serve(servers, tmp_path: Path, database: str, name: str, **options):
    data = tmp_path / name
    return servers(data, database=database, **options)


def _psql(postgres: Postgres, database: str, sql: str) -> str:
    name = database.rsplit("/", 1)[1]
    done = subprocess.run(
        [
            str(PG_BIN / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(postgres.port),
            "-U",
            "postgres",
            "-d",
            name,
            "-At",
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_three_servers_starting_together_on_a_new_database_migrate_once(servers, tmp_path, postgres):
    database = postgres.database()
    started = [_serve(servers, tmp_path, database, f"data{i}") for i in range(3)]
    for server in started:
        server.wait_ready()
    migrations = sum(1 for _ in Path(__file__).resolve().parents[1].glob("*/migrations/0*.py"))
    ours = _psql(
        postgres,
        database,
        "SELECT count(*) FROM django_migrations"
        " WHERE app IN ('core', 'fleet', 'accounts', 'enrollment', 'dashboard', 'alerts')",
    )
    assert int(ours) == migrations
    # Exactly one of them made the first secret (it is shown once, by whoever made it).
    printed = [server for server in started if "ccs_" in server.output()]
    assert len(printed) == 1
    assert _psql(postgres, database, "SELECT count(*) FROM enrollment_enrollmentsecret") == "1"


def _storm(urls: list[str], secret: str, hosts: int = 12) -> None:
    """Each host enrolls through one server and ships three reports, each through the next server."""

    def one(index: int) -> None:
        agent = Agent(urls[index % len(urls)], f"ws-{index:03d}", machine=f"m-{index}")
        agent.agent_id = f"00000000-0000-4000-8000-{index:012d}"
        assert agent.enroll(secret).status == 200
        reports = [
            real_report(),
            with_finding(real_report(), "chrome", status="ok", installed="999.0"),
            with_finding(real_report(), "chrome", status="owed", installed=f"120.{index}"),
        ]
        for step, report in enumerate(reports):
            agent.url = urls[(index + step + 1) % len(urls)]
            answer = agent.ship(report)
            assert answer.status == 202, answer
            assert agent.ship(report).json()["outcome"] == "check-in"

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(hosts)))


def _outcome(server, token: str) -> list[tuple]:
    hosts = api(server, token, "/api/v1/hosts?limit=1000").json()["results"]
    result = []
    for host in sorted(hosts, key=lambda h: h["hostname"]):
        detail = api(server, token, f"/api/v1/hosts/{host['id']}").json()
        result.append(
            (
                host["hostname"],
                host["agent_id"],
                host["status"],
                host["owed"],
                host["due"],
                tuple(sorted((s["rule"], s["status"], s["installed"]) for s in detail["rule_states"])),
                tuple(sorted((c["rule"], c["old"], c["new"], c["installed"]) for c in detail["history"])),
            )
        )
    return result


def test_two_servers_on_one_database_give_the_result_of_one(servers, tmp_path, postgres):
    shared = postgres.database()
    first = _serve(servers, tmp_path, shared, "a").wait_ready()
    second = _serve(servers, tmp_path, shared, "b").wait_ready()
    secret = first.secret()
    _storm([first.url, second.url], secret)
    alone = postgres.database()
    single = _serve(servers, tmp_path, alone, "c").wait_ready()
    _storm([single.url], single.secret())
    token_two = cli(first.data, "token", "create", database=shared).stdout.strip()
    token_one = cli(single.data, "token", "create", database=alone).stdout.strip()
    two = _outcome(first, token_two)
    assert two == _outcome(second, token_two)  # both servers answer the same
    assert two == _outcome(single, token_one)
    assert len(two) == 12
    summary = api(second, token_two, "/api/v1/summary").json()
    assert summary["hosts"] == 12 and summary["by_status"]["owed"] == 12
    csv_text = api(first, token_two, "/api/v1/hosts.csv").body.decode()
    assert csv_text.count("\r\n") == 13


def test_a_worker_keeps_one_database_connection_across_requests(servers, tmp_path, postgres):
    # Django's ASGI handler would run each request in a new thread, with a new connection that CONN_MAX_AGE
    # keeps open: a worker's connections grew with its requests until PostgreSQL refused more.
    database = postgres.database()
    server = _serve(servers, tmp_path, database, "one", workers=1, args=("--no-housekeeping",)).wait_ready()
    agent = Agent(server.url, "ws-conn")
    assert agent.enroll(server.secret()).status == 200
    for index in range(20):
        report = with_finding(real_report(), "chrome", status="ok", installed=f"999.{index}")
        assert agent.ship(report).status == 202
        assert agent.ship(report).status == 202  # and a check-in
    for _ in range(20):
        assert request(server.url, "GET", "/healthz").status == 200
    others = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    assert _psql(postgres, database, others) == "1"


def test_the_one_statement_look_up_counts_live_keys_only_and_answers_429_past_the_limit(servers, tmp_path, postgres):
    # On PostgreSQL the key look-up and the host's rate counter are one statement (ingest.api.views).
    database = postgres.database()
    data = tmp_path / "limited"
    data.mkdir(mode=0o700)
    (data / "server.toml").write_text('secret_key = "limits"\nhost_requests_per_hour = 3\n')
    server = servers(data, database=database, workers=1, args=("--no-housekeeping",)).wait_ready()
    agent = Agent(server.url, "ws-limit")
    assert agent.enroll(server.secret()).status == 200
    report = real_report()
    answers = [agent.ship(report) for _ in range(4)]
    assert [a.status for a in answers] == [202, 202, 202, 429]
    assert [a.json().get("outcome") for a in answers[:3]] == ["stored", "check-in", "check-in"]
    assert 0 < int(answers[-1].headers["retry-after"]) <= 3601
    counters = "SELECT key, count FROM core_ratecounter ORDER BY key"
    host_id = _psql(postgres, database, "SELECT id FROM fleet_host")
    assert _psql(postgres, database, counters) == f"host:{host_id}|4"
    # A revoked key is answered without counting; an unknown one too.
    cli(data, "host", "delete", "ws-limit", database=database)
    assert (agent.ship(report).status, _psql(postgres, database, counters)) == (401, f"host:{host_id}|4")
    assert agent.ship(report, key="cck_" + "A" * 43).json()["error"] == "reenroll"
    assert _psql(postgres, database, counters) == f"host:{host_id}|4"


@pytest.fixture
def private_postgres():
    """A PostgreSQL of this test alone, since the test stops it."""
    if not (PG_BIN / "initdb").exists():
        missing(f"PostgreSQL 15 is not installed ({PG_BIN})")
    root = Path(tempfile.mkdtemp(prefix="clientcheck-postgres-"))
    cluster = Postgres(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_the_database_going_away_is_503_with_retry_after_and_nothing_answered_202_is_lost(
    servers, tmp_path, private_postgres
):
    database = private_postgres.database()
    server = _serve(servers, tmp_path, database, "d", args=("--no-housekeeping",)).wait_ready()
    agents = [Agent(server.url, f"ws-{i}") for i in range(5)]
    for agent in agents:
        assert agent.enroll(server.secret()).status == 200
    accepted: list[str] = []
    for agent in agents:
        document = agent.envelope(real_report())
        assert agent.ship(document=document).status == 202
        accepted.append(document["report_id"])
    private_postgres.stop()
    refused = []
    for agent in agents:
        answer = agent.ship(with_finding(real_report(), "chrome", status="ok", installed="999.0"))
        refused.append(answer)
    assert {answer.status for answer in refused} == {503}
    assert all(int(answer.headers["retry-after"]) >= 30 for answer in refused)
    assert server.process.poll() is None
    private_postgres.run_server()
    for agent in agents:  # the agents retry what was refused: it is stored now
        document = agent.envelope(with_finding(real_report(), "chrome", status="ok", installed="999.0"))
        answer = agent.ship(document=document)
        assert answer.status == 202, answer
        accepted.append(document["report_id"])
    stored = _psql(private_postgres, database, "SELECT report_id FROM fleet_seenreport")
    assert sorted(stored.split()) == sorted(accepted)


def test_backup_and_restore_with_pg_dump(servers, tmp_path, postgres):
    source = postgres.database()
    server = _serve(servers, tmp_path, source, "e").wait_ready()
    agent = Agent(server.url, "kept")
    agent.enroll(server.secret())
    agent.ship(real_report())
    token = cli(server.data, "token", "create", database=source).stdout.strip()
    before = _outcome(server, token)
    backup = tmp_path / "fleet.dump"
    cli(server.data, "backup", str(backup), "--pg-bin", str(PG_BIN), database=source)  # while serving
    assert backup.stat().st_mode & 0o077 == 0
    server.stop()
    target = postgres.database()
    cli(tmp_path / "f", "restore", str(backup), "--pg-bin", str(PG_BIN), database=target)
    restored = _serve(servers, tmp_path, target, "f").wait_ready()
    assert _outcome(restored, token) == before  # the same API answers, the same token works
    agent.url = restored.url
    assert agent.ship(real_report()).json()["outcome"] == "check-in"  # its key was restored too
