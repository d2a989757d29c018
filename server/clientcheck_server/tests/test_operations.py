"""Operating the server, for real: upgrading a store made by an earlier version, SQLite's online backup and
restore, housekeeping from the command line and inside serve, TLS, a reverse proxy's client addresses."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time

import pytest

from servertest import Agent, api, cli, real_report, request, self_signed_certificate, with_finding


def _outcome(server, token: str) -> list:
    hosts = api(server, token, "/api/v1/hosts").json()["results"]
    return [
        (host, api(server, token, f"/api/v1/hosts/{host['id']}").json()["history"])
        for host in sorted(hosts, key=lambda h: h["id"])
    ]


def test_a_store_made_by_an_earlier_version_keeps_its_data_through_serve(servers, migrated_data):
    server = servers(migrated_data).wait_ready()
    secret = cli(migrated_data, "secret", "create").stdout.strip()
    agents = [Agent(server.url, f"ws-{i}") for i in range(3)]
    for agent in agents:
        agent.enroll(secret)
        agent.ship(real_report())
    agents[0].ship(with_finding(real_report(), "chrome", status="ok", installed="999.0"))
    token = cli(migrated_data, "token", "create").stdout.strip()
    before = _outcome(server, token)
    server.stop()
    # Back to the schema before fleet 0002 (hosts had no owed_since): the store an earlier version made.
    cli(migrated_data, "migrate", "fleet", "0001")
    with sqlite3.connect(migrated_data / "clientcheck.sqlite3") as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(fleet_host)")]
    assert "owed_since" not in columns
    upgraded = servers(migrated_data).wait_ready()  # serve of the new code migrates it
    after = _outcome(upgraded, token)
    assert after == before  # every host, its history and owed_since (rebuilt from the rule states)
    assert all(host["owed_since"] for host, _ in after if host["status"] == "owed")
    shown = cli(migrated_data, "showmigrations", "fleet").stdout
    assert "[X] 0002_host_owed_since" in shown


def test_online_backup_while_serving_and_restore_into_a_new_folder(servers, server, tmp_path):
    agent = Agent(server.url, "kept")
    agent.enroll(server.secret())
    agent.ship(real_report())
    token = cli(server.data, "token", "create").stdout.strip()
    stop = threading.Event()

    def keep_writing() -> None:  # the backup is taken while agents report
        busy = Agent(server.url, "busy")
        busy.enroll(server.secret())
        version = 0
        while not stop.is_set():
            version += 1
            busy.ship(with_finding(real_report(), "chrome", status="ok", installed=f"999.{version}"))

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        time.sleep(1)
        backup = tmp_path / "fleet.sqlite3"
        cli(server.data, "backup", str(backup))
    finally:
        stop.set()
        writer.join()
    assert os.stat(backup).st_mode & 0o077 == 0
    with sqlite3.connect(backup) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again = cli(server.data, "backup", str(backup), check=False)
    assert again.returncode == 1 and "exists already" in again.stderr
    kept = [item for item in _outcome(server, token) if item[0]["hostname"] == "kept"]
    fresh = tmp_path / "restored"
    cli(fresh, "restore", str(backup))
    restored = servers(fresh).wait_ready()
    assert [item for item in _outcome(restored, token) if item[0]["hostname"] == "kept"] == kept
    agent.url = restored.url
    assert agent.ship(real_report()).json()["outcome"] == "check-in"
    bad = tmp_path / "not-a-backup"
    bad.write_bytes(b"hello")
    refused = cli(fresh, "restore", str(bad), check=False)
    assert refused.returncode == 1 and "not a clientcheck-server SQLite backup" in refused.stderr


def test_housekeeping_runs_once_at_a_time_and_inside_serve(servers, migrated_data):
    done = cli(migrated_data, "housekeeping")
    summary = json.loads(done.stdout)
    assert set(summary) == {"deadlines_passed", "marked_stale", "archived", "pruned", "rollup_rules", "alerts"}
    lock = os.open(str(migrated_data / "clientcheck.sqlite3") + ".housekeeping.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        skipped = cli(migrated_data, "housekeeping")
        assert skipped.stdout == "" and "running elsewhere" in skipped.stderr
    finally:
        os.close(lock)
    with open(migrated_data / "server.toml", "a", encoding="utf-8") as config:
        config.write("housekeeping_interval = 1\n")
    server = servers(migrated_data).wait_ready()
    agent = Agent(server.url, "ws")
    agent.enroll(cli(migrated_data, "secret", "create").stdout.strip())
    agent.ship(real_report())
    database = migrated_data / "clientcheck.sqlite3"
    deadline = time.monotonic() + 60
    rollup = None
    while time.monotonic() < deadline and rollup != [(1, 1)]:  # a run after the report counts it owed
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            rollup = db.execute("SELECT hosts, owed FROM fleet_dailyrollup WHERE hosts > 0").fetchall()
        time.sleep(0.5)
    assert rollup == [(1, 1)], server.output()
    running = subprocess.run(
        ["pgrep", "-f", f"clientcheck_server --data {migrated_data} housekeeping"], capture_output=True, check=False
    )
    assert running.stdout.strip(), "serve runs no housekeeper"
    server.stop()
    leftover = subprocess.run(
        ["pgrep", "-f", f"clientcheck_server --data {migrated_data} housekeeping"], capture_output=True, check=False
    )
    assert leftover.stdout == b""


def test_fleet_settings_from_the_command_line(migrated_data):
    cli(migrated_data, "settings", "set", "stale_after_days", "100")
    refused = cli(migrated_data, "settings", "set", "archive_after_days", "50", check=False)
    assert refused.returncode == 1 and "archive_after_days" in refused.stderr
    shown = {item["name"]: item["days"] for item in json.loads(cli(migrated_data, "settings", "show", "--json").stdout)}
    assert shown["stale_after_days"] == 100 and shown["archive_after_days"] == 120


@pytest.fixture
def certificate(tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    return cert, key


def test_tls_with_certfile_and_keyfile(servers, migrated_data, certificate, monkeypatch):
    cert, key = certificate
    server = servers(migrated_data, args=("--certfile", str(cert), "--keyfile", str(key)))
    server.url = server.url.replace("http://", "https://")
    monkeypatch.setenv("CLIENTCHECK_TEST_CA", str(cert))
    server.wait_ready()
    assert "listening on https://127.0.0.1:" in server.output()
    agent = Agent(server.url, "tls")
    assert agent.enroll(cli(migrated_data, "secret", "create").stdout.strip()).status == 200
    assert agent.ship(real_report()).status == 202
    with pytest.raises((ConnectionError, OSError)):
        request(server.url.replace("https://", "http://"), "GET", "/healthz", timeout=5).json()


def test_client_addresses_from_a_trusted_proxy_only(servers, migrated_data, tmp_path):
    trusted_data = tmp_path / "trusted"
    shutil.copytree(migrated_data, trusted_data)
    with open(trusted_data / "server.toml", "a", encoding="utf-8") as config:
        config.write('enroll_failures_per_hour = 5\ntrusted_proxies = ["127.0.0.1"]\n')
    with open(migrated_data / "server.toml", "a", encoding="utf-8") as config:
        config.write("enroll_failures_per_hour = 5\n")
    behind_proxy = servers(trusted_data).wait_ready()
    direct = servers(migrated_data).wait_ready()

    def enroll(server, forwarded: str) -> int:
        body = json.dumps(
            {
                "secret": "ccs_" + "0" * 43,
                "agent_id": "00000000-0000-4000-8000-000000000001",
                "hostname": "x",
                "hints": [],
            }
        ).encode()
        return request(
            server.url,
            "POST",
            "/api/v1/enroll",
            body,
            {"Content-Type": "application/json", "X-Forwarded-For": forwarded},
        ).status

    # Behind a trusted proxy, each forwarded client address has its own count.
    assert [enroll(behind_proxy, "203.0.113.5") for _ in range(6)] == [401] * 5 + [429]
    assert enroll(behind_proxy, "203.0.113.6") == 401
    # Without one, the header is not believed: changing it does not escape the limit.
    assert [enroll(direct, f"203.0.113.{i}") for i in range(6)] == [401] * 5 + [429]
