"""``clientcheck-server serve`` on a fresh machine, and the command line around it, for real: a server
process on 127.0.0.1, HTTP, the installed command."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess

from servertest import Agent, Server, api, cli, real_report, request


def test_first_start_makes_the_data_folder_and_prints_url_secret_and_admin_command(servers, data_dir):
    server = servers(data_dir).wait_ready()
    out = server.output()
    assert f"listening on {server.url}/" in out
    assert f"clientcheck-server admin create NAME --data {data_dir}" in out
    secret = server.secret()
    assert secret.startswith("ccs_")
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "server.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / "clientcheck.sqlite3").stat().st_mode) & 0o077 == 0
    # The first secret works; it and the host key it bought are stored only as their hashes.
    agent = Agent(server.url)
    assert agent.enroll(secret).status == 200
    assert agent.ship(real_report()).status == 202
    server.stop()
    stored = b"".join(path.read_bytes() for path in data_dir.glob("clientcheck.sqlite3*"))
    assert secret.encode() not in stored and agent.key.encode() not in stored
    assert hashlib.sha256(agent.key.encode()).hexdigest().encode() in stored
    # A second start makes no new secret (one is shown only once) and keeps the first.
    again = servers(data_dir).wait_ready()
    assert "ccs_" not in again.output()
    assert Agent(again.url, "ws-002").enroll(secret).status == 200


def test_several_servers_starting_together_on_a_new_data_folder(servers, data_dir):
    started = [servers(data_dir) for _ in range(3)]
    for server in started:
        server.wait_ready()
    printed = [server for server in started if "ccs_" in server.output()]
    assert len(printed) == 1  # one first secret, shown by the one that made it
    secret = printed[0].secret()
    for index, server in enumerate(started):
        assert Agent(server.url, f"ws-{index}").enroll(secret).status == 200


def test_the_three_commands_of_the_tour(server: Server):
    """serve, enroll, see the host in the API."""
    agent = Agent(server.url, "laptop-7")
    assert agent.enroll(server.secret()).status == 200
    shipped = agent.ship(real_report())
    assert shipped.status == 202, shipped
    assert shipped.json()["outcome"] == "stored"
    assert shipped.json()["next_check_in"] >= 3600
    token = cli(server.data, "token", "create").stdout.strip()
    hosts = api(server, token, "/api/v1/hosts").json()
    assert hosts["count"] == 1
    (host,) = hosts["results"]
    assert (host["hostname"], host["status"], host["platform"]) == ("laptop-7", "owed", "linux")


def test_created_secrets_and_tokens_are_printed_alone_and_once(server: Server):
    made = cli(server.data, "secret", "create", "--group", "Sales", "--name", "sales laptops")
    assert made.stdout.count("\n") == 1 and made.stdout.startswith("ccs_")
    secret = made.stdout.strip()
    listing = cli(server.data, "secret", "list").stdout
    assert secret not in listing and secret[:12] in listing and "Sales" in listing
    agent = Agent(server.url, "sales-1")
    answer = agent.enroll(secret)
    assert answer.json()["group"] == "Sales"
    token = cli(server.data, "token", "create", "--role", "admin").stdout
    assert token.count("\n") == 1 and token.startswith("cct_")
    assert token.strip() not in cli(server.data, "token", "list").stdout
    as_json = json.loads(cli(server.data, "secret", "list", "--json").stdout)
    assert {item["group"] for item in as_json} == {None, "Sales"}


def test_revoking_a_secret_stops_enrollment_but_not_enrolled_hosts(server: Server):
    secret = cli(server.data, "secret", "create").stdout.strip()
    enrolled = Agent(server.url, "ws-a")
    assert enrolled.enroll(secret).status == 200
    cli(server.data, "secret", "revoke", secret[:12])
    refused = Agent(server.url, "ws-b").enroll(secret)
    assert refused.status == 401 and refused.json()["error"] == "invalid_secret"
    assert enrolled.ship(real_report()).status == 202


def test_deleting_a_host_revokes_its_key(server: Server):
    agent = Agent(server.url, "doomed")
    agent.enroll(server.secret())
    assert agent.ship(real_report()).status == 202
    cli(server.data, "host", "delete", "doomed")
    answer = agent.ship(real_report())
    assert answer.status == 401
    assert answer.json()["error"] == "revoked"
    token = cli(server.data, "token", "create").stdout.strip()
    assert api(server, token, "/api/v1/hosts").json()["count"] == 0
    # The same through the API, with an admin token (a viewer's is refused), over real HTTP.
    other = Agent(server.url, "doomed-too")
    other.enroll(server.secret())
    other.ship(real_report())
    host_id = api(server, token, "/api/v1/hosts").json()["results"][0]["id"]
    assert (
        request(server.url, "DELETE", f"/api/v1/hosts/{host_id}", headers={"Authorization": f"Bearer {token}"}).status
        == 403
    )
    admin = cli(server.data, "token", "create", "--role", "admin").stdout.strip()
    deleted = request(server.url, "DELETE", f"/api/v1/hosts/{host_id}", headers={"Authorization": f"Bearer {admin}"})
    assert deleted.status == 200
    assert other.ship(real_report()).json()["error"] == "revoked"
    audit = subprocess.run(
        ["sqlite3", str(server.data / "clientcheck.sqlite3"), "SELECT action, actor, via FROM accounts_auditevent"],
        capture_output=True,
        text=True,
        check=False,
    )
    if audit.returncode == 0:  # the sqlite3 shell is optional here; the audit test reads it in-process
        assert "host.delete|cli:" in audit.stdout


def test_admin_create_reads_the_password_from_a_file_never_the_command_line(server: Server, tmp_path):
    weak = tmp_path / "weak"
    weak.write_text("short\n")
    refused = cli(server.data, "admin", "create", "alice", "--password-file", str(weak), check=False)
    assert refused.returncode == 1 and "refused" in refused.stderr
    good = tmp_path / "password"
    good.write_text("correct horse battery staple 42\n")
    cli(server.data, "admin", "create", "alice", "--password-file", str(good))
    cli(
        server.data,
        "admin",
        "create",
        "bob",
        "--password-file",
        "-",
        "--role",
        "viewer",
        "--group",
        "Sales",
        input="another long enough passphrase\n",
    )
    users = json.loads(cli(server.data, "admin", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["groups"]) for u in users] == [
        ("alice", "admin", []),
        ("bob", "viewer", ["Sales"]),
    ]
    no_terminal = cli(server.data, "admin", "create", "carol", check=False)
    assert no_terminal.returncode == 1 and "--password-file" in no_terminal.stderr


def test_commands_before_the_first_start_say_what_to_do(tmp_path):
    done = cli(tmp_path / "nothing", "secret", "list", check=False)
    assert done.returncode == 2
    assert "clientcheck-server serve --data" in done.stderr


def test_a_bad_configuration_is_one_line_not_a_traceback(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "server.toml").write_text("workers = 'many'\n")
    done = cli(data, "serve", check=False)
    assert done.returncode == 2
    assert "workers must be int" in done.stderr and "Traceback" not in done.stderr
    (data / "server.toml").write_text('secret_key = "x"\ndatabase = "mysql://db/x"\n')
    done = cli(data, "serve", check=False)
    assert done.returncode == 2 and "postgresql://" in done.stderr


def test_healthz_and_metrics(server: Server):
    agent = Agent(server.url)
    agent.enroll(server.secret())
    agent.ship(real_report())
    agent.ship(real_report())
    agent.ship(document={"nonsense": True})
    assert request(server.url, "GET", "/healthz").json() == {"status": "ok"}
    from prometheus_client.parser import text_string_to_metric_families

    text = request(server.url, "GET", "/metrics").body.decode()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("clientcheck_server_reports_total", (("outcome", "stored"),))] == 1
    assert samples[("clientcheck_server_reports_total", (("outcome", "check-in"),))] == 1
    assert samples[("clientcheck_server_reports_total", (("outcome", "bad_envelope"),))] == 1
    assert samples[("clientcheck_server_enrollments_total", (("outcome", "enrolled"),))] == 1
    assert samples[("clientcheck_server_hosts", (("stale", "false"), ("status", "owed")))] == 1
    assert samples[("clientcheck_server_ingest_seconds_count", (("kind", "report"),))] == 1
