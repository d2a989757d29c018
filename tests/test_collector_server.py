"""The agent against a real ``clientcheck-server serve`` on 127.0.0.1: enrolling, shipping, and what it does
with every answer of docs/collector-protocol.md (202, reenroll with and without a new agent id, 413, 422,
429 with Retry-After, a refused secret, TLS with a CA bundle); then the command line itself, as real
processes: enroll, a check whose detached shipper ships its report, ship --status, unenroll, and
``autostart uninstall --system`` removing the host key and the spool.

The fault list of the issue (a server killed, PostgreSQL stopped, a week offline, clock skew, deleted hosts
and revoked secrets) is test_collector_faults.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from clientcheck.collector.shipping import pseudonym
from collector_world import (
    Agent,
    api,
    cli,
    real_report,
    seen_report_ids,
    self_signed_certificate,
    server_template,
    start_server,
    variants,
)
from collector_world import secret_file as secret_file

__all__ = ["secret_file", "server_template", "start_server"]  # fixtures, used by name

CLIENTCHECK = str(Path(sys.executable).parent / "clientcheck")


def _host(server, agent_id: str) -> dict:
    [host] = [item for item in api(server, "/api/v1/hosts?archived=all")["results"] if item["agent_id"] == agent_id]
    return host


def test_an_agent_enrolls_ships_and_the_host_is_in_the_api(start_server, secret_file, tmp_path: Path):
    server = start_server()
    agent = Agent(tmp_path / "a", server.url, hostname="ws-001", secret_file=secret_file)
    first = agent.spool(real_report())
    # A scheduled session: it enrolls by itself (report.server and a secret file), waits the server's
    # next_check_in (under a minute) on its own clock, and ships.
    result = agent.ship(patience=600)
    assert result.state == "done" and result.sent == 1, result
    assert [item.kind for item in agent.exchanges] == ["enroll", "report"]
    enrollment = agent.collector.enrollment()
    assert enrollment is not None and enrollment.server == server.url
    assert agent.exchanges[1].at >= agent.exchanges[0].at  # no earlier than the check-in it was given
    assert agent.exchanges[1].outcome == "stored" and agent.spooled() == []
    host = _host(server, enrollment.agent_id)
    assert (host["hostname"], host["run_as"], host["platform"]) == ("ws-001", "machine", "linux")
    assert host["id"] == enrollment.host_id
    assert seen_report_ids(server.data) == [first]
    # The same findings again: a check-in, and the session after waits for next_check_in.
    agent.spool(real_report())
    assert agent.ship().state == "waiting"
    agent.wait_until_due()
    assert agent.ship().sent == 1 and agent.exchanges[-1].outcome == "check-in"


def test_a_person_s_explicit_ship_goes_now_and_a_per_user_install_is_shown_so(start_server, secret_file, tmp_path):
    server = start_server()
    agent = Agent(tmp_path / "u", server.url, hostname="laptop", secret_file=secret_file, run_as="user")
    agent.spool(real_report())
    result = agent.ship(explicit=True)  # no waiting for the enrollment's next_check_in
    assert result.sent == 1, result
    assert _host(server, agent.collector.enrollment().agent_id)["run_as"] == "user"


def test_a_pseudonym_instead_of_the_host_name(start_server, secret_file, tmp_path: Path):
    server = start_server()
    agent = Agent(tmp_path / "p", server.url, hostname="ada-private-laptop", secret_file=secret_file, pseudonym=True)
    agent.spool(real_report())
    agent.ship(explicit=True)
    agent_id = agent.collector.enrollment().agent_id
    host = _host(server, agent_id)
    assert host["hostname"] == pseudonym(agent_id) and host["hostname"].startswith("host-")
    assert "ada-private" not in json.dumps(api(server, f"/api/v1/hosts/{host['id']}"))


def test_the_backlog_goes_oldest_first_one_at_a_time_in_one_session(start_server, secret_file, tmp_path: Path):
    server = start_server()
    agent = Agent(tmp_path / "b", server.url, hostname="ws-b", secret_file=secret_file)
    ids = []
    for report in variants(12):
        ids.append(agent.spool(report))
        agent.now += dt.timedelta(hours=1)
    result = agent.ship(patience=600)
    assert result.sent == 12 and result.left == 0
    assert agent.answered() == ids  # in the spool's order, each once
    assert {item.outcome for item in agent.exchanges if item.kind == "report"} == {"stored"}
    assert sorted(seen_report_ids(server.data)) == sorted(ids)


def test_a_report_refused_for_good_is_dropped_with_a_log_line_and_the_spool_goes_on(
    start_server, secret_file, tmp_path: Path
):
    server = start_server(settings="max_report_bytes = 30000")
    agent = Agent(tmp_path / "r", server.url, hostname="ws-r", secret_file=secret_file)
    report = real_report()
    too_large = {**report, "findings": [{**report["findings"][0], "message": "x" * 40000}, *report["findings"][1:]]}
    wrong = json.loads(json.dumps(report))
    wrong["summary"]["status"] = "fine"  # not a status the schema knows
    good = variants(2)[1]
    ids = [agent.spool(too_large), agent.spool(wrong), agent.spool(good)]
    result = agent.ship(explicit=True)
    assert result.sent == 1 and result.dropped == 2 and result.left == 0, result
    outcomes = [(item.report_id, item.status, item.outcome) for item in agent.exchanges if item.kind == "report"]
    assert outcomes == [(ids[0], 413, "too_large"), (ids[1], 422, "schema"), (ids[2], 202, "stored")]
    log = "\n".join(agent.collector.read_log(20))
    assert f"report {ids[0]} dropped: refused for good (413 too_large)" in log
    assert f"report {ids[1]} dropped: refused for good (422 schema): report.summary.status" in log
    assert seen_report_ids(server.data) == [ids[2]]


def test_reenroll_enrolls_again_with_the_same_agent_id_and_ships(start_server, secret_file, tmp_path: Path):
    server = start_server()
    agent = Agent(tmp_path / "k", server.url, hostname="ws-k", secret_file=secret_file)
    agent.spool(variants(2)[0])
    agent.ship(explicit=True)
    before = agent.collector.enrollment()
    # The server no longer knows the key (a restored backup, say): enroll again, then ship.
    Path(agent.collector.path("enrollment.json")).write_text(
        json.dumps(
            {**json.loads(Path(agent.collector.path("enrollment.json")).read_text()), "host_key": "cck_" + "A" * 43}
        )
    )
    second = agent.spool(variants(2)[1])
    result = agent.ship(explicit=True)
    assert result.sent == 1 and agent.answered()[-1] == second
    kinds = [(item.kind, item.status, item.outcome) for item in agent.exchanges[2:]]
    assert kinds == [("report", 401, "reenroll"), ("enroll", 200, None), ("report", 202, "stored")]
    after = agent.collector.enrollment()
    assert after.agent_id == before.agent_id and after.host_id == before.host_id and after.host_key != before.host_key
    assert api(server, "/api/v1/hosts")["count"] == 1


def test_reenroll_without_a_secret_stops_and_keeps_the_spool(start_server, server_template, tmp_path: Path):
    server = start_server()
    agent = Agent(tmp_path / "n", server.url, hostname="ws-n")
    agent.enroll(server.url, server_template[1])  # by hand, as `clientcheck enroll` does
    Path(agent.collector.path("enrollment.json")).write_text(
        json.dumps(
            {**json.loads(Path(agent.collector.path("enrollment.json")).read_text()), "host_key": "cck_" + "B" * 43}
        )
    )
    kept = agent.spool(real_report())
    result = agent.ship(explicit=True)
    assert result.state == "not-enrolled" and "report.enroll_secret names no secret file" in result.message
    assert agent.spooled() == [kept]


def test_one_agent_id_on_two_machines_is_told_to_make_a_new_one(start_server, secret_file, tmp_path: Path):
    """A VM cloned after enrollment: the copy carries the agent id and key. The server notices the two
    machines taking turns and tells the one that came back to make a new agent id and enroll."""
    server = start_server()
    original = Agent(tmp_path / "vm", server.url, hostname="vm-1", secret_file=secret_file, boot_id="boot-a")
    original.spool(variants(3)[0])
    original.ship(explicit=True)
    shutil.copytree(tmp_path / "vm", tmp_path / "clone")
    clone = Agent(tmp_path / "clone", server.url, hostname="vm-1-copy", secret_file=secret_file, boot_id="boot-b")
    clone.spool(variants(3)[1])
    assert clone.ship(explicit=True).sent == 1  # a new machine for that key: it may have moved
    original.spool(variants(3)[2])
    result = original.ship(explicit=True)  # the first machine again: two machines share the key
    assert result.sent == 1, result
    kinds = [(item.kind, item.status, item.outcome) for item in original.exchanges[2:]]
    assert kinds == [("report", 401, "reenroll"), ("enroll", 200, None), ("report", 202, "stored")]
    assert original.collector.enrollment().agent_id != clone.collector.enrollment().agent_id
    assert original.collector.agent_id() == original.collector.enrollment().agent_id  # made anew, kept
    assert api(server, "/api/v1/hosts")["count"] == 2


def test_a_new_report_server_is_enrolled_at_with_the_same_agent_id(start_server, secret_file, tmp_path: Path):
    """An admin moves the fleet: report.server names the new collector; the next session enrolls there."""
    old = start_server("old")
    agent = Agent(tmp_path / "m", old.url, hostname="ws-moved", secret_file=secret_file)
    agent.spool(variants(2)[0])
    assert agent.ship(explicit=True).sent == 1
    agent_id = agent.collector.enrollment().agent_id
    new = start_server("new")  # a copy of the same template: the same first secret
    agent.setup = agent.setup.replace(server=new.url)
    agent.spool(variants(2)[1])
    assert agent.ship(explicit=True).sent == 1
    assert agent.collector.enrollment().server == new.url and agent.collector.enrollment().agent_id == agent_id
    assert [item.kind for item in agent.exchanges] == ["enroll", "report", "enroll", "report"]
    assert _host(new, agent_id)["hostname"] == "ws-moved"


def test_429_is_waited_out_as_retry_after_asks(start_server, secret_file, tmp_path: Path):
    server = start_server(settings="host_requests_per_hour = 2")
    agent = Agent(tmp_path / "l", server.url, hostname="ws-l", secret_file=secret_file)
    for report in variants(4):
        agent.spool(report)
    result = agent.ship(explicit=True)
    assert result.sent == 2 and result.state == "retrying" and "429 rate_limited" in result.message
    limited = agent.exchanges[-1]
    assert limited.status == 429 and limited.retry_after is not None and limited.retry_after > 0
    due = agent.not_before()
    assert due is not None and due >= limited.at + dt.timedelta(seconds=limited.retry_after)
    # Before then nothing is sent, even by a person's explicit run: the server asked.
    sent = len(agent.exchanges)
    agent.now = due - dt.timedelta(seconds=1)
    assert agent.ship(explicit=True).state == "waiting" and len(agent.exchanges) == sent
    assert len(agent.spooled()) == 2


def test_a_refused_secret_is_not_tried_again_until_it_changes(start_server, tmp_path: Path):
    server = start_server()
    wrong = tmp_path / "wrong-secret"
    wrong.write_text("ccs_" + "Z" * 43 + "\n")
    agent = Agent(tmp_path / "s", server.url, hostname="ws-s", secret_file=wrong)
    agent.spool(real_report())
    result = agent.ship(explicit=True)
    assert result.state == "refused-secret" and "refused the enrollment secret" in result.message
    assert agent.ship(patience=600).state == "refused-secret"
    assert [item.kind for item in agent.exchanges] == ["enroll"]  # once: no hammering with a bad secret
    wrong.write_text(cli(server.data, "secret", "create").stdout)  # the admin pushes a new one
    assert agent.ship(explicit=True).sent == 1


def test_tls_with_the_collectors_ca_bundle(start_server, secret_file, tmp_path: Path):
    cert, key = self_signed_certificate(tmp_path)
    server = start_server("tls", tls=(cert, key))
    untrusting = Agent(tmp_path / "t1", server.url, hostname="ws-t1", secret_file=secret_file)
    untrusting.spool(real_report())
    refused = untrusting.ship(explicit=True)
    assert refused.state == "retrying" and "TLS certificate not trusted" in refused.message
    trusting = Agent(tmp_path / "t2", server.url, hostname="ws-t2", secret_file=secret_file)
    trusting.setup = trusting.setup.replace(ca_bundle=str(cert))
    trusting.spool(real_report())
    assert trusting.ship(explicit=True).sent == 1
    # Plain http to an address that is not this machine is refused before anything is sent.
    elsewhere = Agent(tmp_path / "t3", "http://192.0.2.7:8765", hostname="ws-t3", secret_file=secret_file)
    elsewhere.spool(real_report())
    result = elsewhere.ship(explicit=True)
    assert result.state == "stopped" and "only https:// is allowed" in result.message
    assert elsewhere.exchanges == []


# --- the command line, as real processes ------------------------------------------------------------------


def _run(*args: str, env: dict[str, str], input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLIENTCHECK, *args], env=env, input=input, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_command_line_enroll_check_ship_status_unenroll(start_server, secret_file, tmp_path: Path):
    """As root (the machine), with the test's own state folder: enroll, a check that spools its report and
    starts the shipper detached (the check does not wait for it), the status, unenroll."""
    server = start_server()
    env = dict(os.environ)  # the test's own home, CLIENTCHECK_STATE_DIR and CLIENTCHECK_CACHE_DIR (conftest)
    collector = Path(env["CLIENTCHECK_STATE_DIR"]) / "collector"
    wrong = tmp_path / "wrong"
    wrong.write_text("ccs_" + "W" * 43 + "\n")
    refused = _run("enroll", server.url, "--secret-file", str(wrong), env=env)
    assert refused.returncode == 6 and "refused the enrollment secret" in refused.stderr, refused.stderr
    wrong.chmod(0o644)
    assert (
        f"warning: the enrollment secret: other users may read {wrong} (mode 0644)"
        in _run("enroll", server.url, "--secret-file", str(wrong), env=env).stderr
    )
    not_a_url = _run("enroll", "fleet.example.com", "--secret-file", str(secret_file), env=env)
    assert not_a_url.returncode == 2 and "give it with its scheme: https://fleet.example.com" in not_a_url.stderr
    plain = _run("enroll", "http://fleet.example.com", "--secret-file", str(secret_file), env=env)
    assert plain.returncode == 2 and "only https:// is allowed" in plain.stderr

    enrolled = _run("enroll", server.url, "--secret-file", "-", "--no-check", env=env, input=secret_file.read_text())
    assert enrolled.returncode == 0, enrolled.stderr
    assert enrolled.stdout.startswith(f"enrolled this machine at {server.url} as host ")
    host_id = json.loads((collector / "enrollment.json").read_text())["host_id"]
    assert (collector / "enrollment.json").stat().st_mode & 0o777 == 0o600
    # The shipper honours the enrollment's next_check_in (under a minute); the test does not wait for it.
    schedule = json.loads((collector / "schedule.json").read_text())
    (collector / "schedule.json").write_text(json.dumps({**schedule, "not_before": None}))

    check = _run("check", "--format", "json", env=env)
    assert check.returncode in (0, 1) and check.stderr == "", check.stderr
    report = json.loads(check.stdout)
    deadline = dt.datetime.now() + dt.timedelta(seconds=90)
    while list((collector / "spool").iterdir()) and dt.datetime.now() < deadline:
        subprocess.run(["sleep", "0.2"], check=True)
    assert list((collector / "spool").iterdir()) == [], (collector / "ship.log").read_text()
    stored = api(server, f"/api/v1/hosts/{host_id}")
    assert stored["latest_report"]["report"]["software"] == report["software"]

    status = _run("ship", "--status", env=env)
    assert status.returncode == 0
    assert f"enrolled at {server.url} as host {host_id}" in status.stdout
    assert "spool: 0 report(s)" in status.stdout and ": stored" in status.stdout

    unenrolled = _run("unenroll", env=env)
    assert unenrolled.returncode == 0, unenrolled.stderr
    assert f"removed the host key of host {host_id}" in unenrolled.stdout
    assert not (collector / "enrollment.json").exists() and (collector / "agent-id").exists()
    nothing = _run("ship", env=env)
    assert nothing.returncode == 6 and "not enrolled" in nothing.stderr


def test_a_managed_policy_setting_this_version_does_not_know_is_a_warning_for_every_command(tmp_path: Path, capsys):
    """What a fleet rolling out a newer agent sees on the older ones: a warning, and the run does its job."""
    from clientcheck.cli import main
    from clientcheck.config import Places

    managed = tmp_path / "managed.toml"
    managed.write_text('[report]\nupload_window = "22:00-06:00"\nformat = "json"\n')
    places = Places(machine=None, user=None, managed=str(managed))
    env = {name: os.environ[name] for name in ("CLIENTCHECK_STATE_DIR", "CLIENTCHECK_CACHE_DIR")}
    tree = str(Path(__file__).parent / "fixtures/linux/debian-12-desktop/root")
    for args in (["check", "--root", tree, "--platform", "linux"], ["ship", "--status"], ["config", "show"]):
        status = main(args, env=env, places=places)
        captured = capsys.readouterr()
        assert status in (0, 1), (args, captured.err)
        assert f"clientcheck: warning: {managed}: report.upload_window: unknown setting" in captured.err
        assert "ignored by clientcheck" in captured.err
        if args[0] == "check":  # what the policy does set still applies
            assert json.loads(captured.out)["schema"] == "clientcheck.report/1"


def test_autostart_uninstall_system_removes_the_machines_key_and_spool(tmp_path: Path):
    from clientcheck import autostart
    from clientcheck.collector.folder import Collector, Enrollment

    root = tmp_path / "root"
    (root / "etc/xdg/autostart").mkdir(parents=True)
    collector = Collector(str(root / "var/lib/clientcheck/collector"), "machine")
    collector.ensure()
    agent_id = collector.make_agent_id()
    collector.save_enrollment(Enrollment("https://f.example", agent_id, "cck_k", 4, "machine", None, "t", None))
    for report in variants(3):
        collector.spool.add(json.dumps(report), dt.datetime.now(dt.timezone.utc))
    (root / "var/lib/clientcheck/rules-floor.json").write_text("{}")  # not the collector's: stays
    command = ["/usr/bin/clientcheck", "login"]
    autostart.install("linux", system=True, method="xdg", env={}, command=command, root=str(root))
    changes = autostart.uninstall("linux", system=True, method="xdg", env={}, command=command, root=str(root))
    [forgotten] = [change for change in changes if change.kind == autostart.KIND_COLLECTOR]
    assert forgotten.action == "removed" and forgotten.detail == "the host key and 3 spooled report(s)"
    assert not os.path.exists(collector.folder)
    assert sorted(os.listdir(root / "var/lib/clientcheck")) == ["rules-floor.json"]
    again = autostart.uninstall("linux", system=True, method="xdg", env={}, command=command, root=str(root))
    assert [change.action for change in again if change.kind == autostart.KIND_COLLECTOR] == ["absent"]
