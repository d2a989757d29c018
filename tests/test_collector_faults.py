"""The fault list of issue 12, with real agents and real servers: nothing lost, nothing stored twice.

- The server killed (SIGKILL) in the middle of a storm and started again: every report answered 202 is in
  the store, every one not answered is still in its agent's spool and arrives later; counted by report id
  over 1,200 reports.
- PostgreSQL stopped and started under load: the server answers 503, the agents wait as Retry-After says,
  nothing is lost (1,000 reports).
- An agent offline for a week: its retries stay few, its spool stays within the cap, and when it is back it
  ships the spool once, oldest first, one request per report.
- Clock skew: agents an hour or a year ahead or behind leave history in the server's order, and no
  deadline moves.
- Deleting a host revokes its key: the agent stops and does not come back by itself. Revoking a secret
  stops new enrollments and leaves enrolled hosts shipping.

The agents are the real shipping code over folders of their own (collector_world.Agent), each with a clock
of its own, so a week passes in seconds; their requests are real HTTP to real ``clientcheck-server serve``
processes.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from clientcheck.cli import main
from clientcheck.collector import plan
from clientcheck.collector.spool import MAX_REPORTS
from collector_world import (
    PG_BIN,
    Agent,
    Postgres,
    Server,
    api,
    cli,
    real_report,
    seen_report_ids,
    server_template,
    start_server,
    variants,
)
from collector_world import secret_file as secret_file
from conftest import LINUX_FIXTURES, missing

__all__ = ["secret_file", "server_template", "start_server"]  # fixtures, used by name


# --- a storm -----------------------------------------------------------------------------------------------


class Storm:
    """Agents shipping their spools at once, from a few threads, each session after the last one's wait
    (on the agent's own clock). ``hold()`` lets the sessions under way finish and starts no more."""

    def __init__(self, agents: list[Agent], threads: int = 8) -> None:
        self.agents = agents
        self.work: queue.Queue[Agent] = queue.Queue()
        for agent in agents:
            self.work.put(agent)
        self.running = threading.Event()
        self.running.set()
        self.active = 0
        self.lock = threading.Lock()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(threads)]

    def _loop(self) -> None:
        while True:
            try:
                agent = self.work.get(timeout=0.5)
            except queue.Empty:
                if all(not agent.spooled() for agent in self.agents):
                    return
                continue
            self.running.wait()
            with self.lock:
                self.active += 1
            try:
                agent.wait_until_due()  # the next run comes when the schedule says: a timer, a check
                result = agent.ship()
            except BaseException as error:  # a bug must fail the test, not hang it
                self.errors.append(error)
                return
            finally:
                with self.lock:
                    self.active -= 1
            if result.left:
                if result.state != "done":
                    time.sleep(0.05)  # a pause in real time: the agent's own clock has moved on already
                self.work.put(agent)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def hold(self) -> None:
        self.running.clear()
        while True:
            with self.lock:
                if self.active == 0:
                    return
            time.sleep(0.01)

    def resume(self) -> None:
        self.running.set()

    def finish(self, timeout: float = 600) -> None:
        for thread in self.threads:
            thread.join(timeout)
        assert not self.errors, self.errors
        assert all(not thread.is_alive() for thread in self.threads), "the storm did not end"


def _enrolled_agents(
    folder: Path, server: Server, secret: str, count: int, reports: int
) -> tuple[list[Agent], dict[str, Agent]]:
    """``count`` enrolled agents with ``reports`` different reports each in their spools; who spooled what."""
    agents = []
    owner: dict[str, Agent] = {}
    made = variants(reports)
    # Judged over the last hours (a fleet coming back with full spools), a minute apart: dated in the past
    # of the server's clock, as reports that waited in a spool are.
    judged = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=reports + 5)
    for index in range(count):
        agent = Agent(folder / f"agent-{index:03d}", server.url, hostname=f"ws-{index:03d}", now=judged)
        agent.enroll(server.url, secret)
        for report in made:
            owner[agent.spool(report)] = agent
            agent.now += dt.timedelta(minutes=1)
        agents.append(agent)
    return agents, owner


def _acknowledged(agents: list[Agent]) -> set[str]:
    return {report_id for agent in agents for report_id in agent.answered(202)}


def _check_nothing_stored_twice(agents: list[Agent]) -> None:
    """Each report was answered 202 once; "stored", unless an earlier try got no answer and the report was
    committed all the same: then its retry is a "duplicate" (the server knows its id), or a "check-in" (its
    content is the host's latest already)."""
    for agent in agents:
        tries: dict[str, list[tuple[int | None, str | None]]] = collections.defaultdict(list)
        for item in agent.exchanges:
            if item.kind == "report":
                tries[item.report_id].append((item.status, item.outcome))
        for report_id, answers in tries.items():
            accepted = [outcome for status, outcome in answers if status == 202]
            assert len(accepted) == 1, (report_id, answers)
            if accepted[0] in ("duplicate", "check-in"):
                assert (None, None) in answers, (report_id, answers)  # a retry whose first answer was lost
            else:
                assert accepted[0] == "stored", (report_id, answers)


def test_the_server_killed_in_a_storm_loses_nothing_and_stores_nothing_twice(start_server, tmp_path: Path):
    server = start_server("storm")
    agents, owner = _enrolled_agents(tmp_path, server, server.first_secret, count=40, reports=30)
    assert len(owner) == 1200
    storm = Storm(agents)
    storm.start()
    while len(_acknowledged(agents)) < 400:
        time.sleep(0.01)
        assert not storm.errors, storm.errors
    server.kill()  # SIGKILL to its process group: the arbiter and its workers, requests in flight
    storm.hold()

    acknowledged = _acknowledged(agents)
    assert 400 <= len(acknowledged) < 1200
    stored = set(seen_report_ids(server.data))
    assert acknowledged <= stored  # every 202 was committed before it was sent
    for agent in agents:  # every report not answered 202 is still in its agent's spool, in order
        mine = [report_id for report_id, who in owner.items() if who is agent]
        assert agent.spooled() == [report_id for report_id in mine if report_id not in acknowledged]
    in_doubt = stored - acknowledged  # committed, but the answer was lost with the server: retried later
    lost_answers = sum(
        1 for agent in agents for item in agent.exchanges if item.kind == "report" and item.status is None
    )
    assert lost_answers >= 1  # the kill did land in the middle of requests

    restarted = start_server("storm", port=server.port)
    storm.resume()
    storm.finish()

    final = seen_report_ids(restarted.data)
    print(  # the figures of this run, for whoever reads the test's output (pytest -s)
        f"storm: {len(acknowledged)} answered 202 before the kill, {lost_answers} answers lost with it, "
        f"{len(in_doubt)} of those committed all the same (their retry: not stored again), {len(final)} in the store"
    )
    assert len(final) == len(set(final)) == 1200
    assert set(final) == set(owner)  # 0 lost
    _check_nothing_stored_twice(agents)  # 0 duplicated
    for report_id in in_doubt:
        retried = [item.outcome for item in owner[report_id].exchanges if item.report_id == report_id]
        assert retried[-1] in ("duplicate", "check-in"), retried
    hosts = api(restarted, "/api/v1/hosts?limit=1000")["results"]
    assert len(hosts) == 40
    for host in hosts:  # each host's latest report is its last one, whatever the order of retries
        detail = api(restarted, f"/api/v1/hosts/{host['id']}")
        installed = [state["installed"] for state in detail["rule_states"] if state["rule"] == "chrome"]
        assert "131.0.29" in installed, installed


# --- PostgreSQL stopped under load -------------------------------------------------------------------------


@pytest.fixture
def private_postgres():
    """A PostgreSQL of this test alone (initdb into a temporary folder, as the postgres user, a private
    port), since the test stops it."""
    if not (PG_BIN / "initdb").exists():
        missing(f"PostgreSQL 15 is not installed ({PG_BIN}; .ci/run installs it)")
    root = Path(tempfile.mkdtemp(prefix="clientcheck-postgres-"))
    cluster = Postgres(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def _pg_report_ids(postgres: Postgres, database: str) -> list[str]:
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
            database.rsplit("/", 1)[1],
            "-At",
            "-c",
            "SELECT report_id FROM fleet_seenreport",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def test_postgresql_stopped_under_load_is_503_agents_wait_and_nothing_is_lost(
    start_server, private_postgres, tmp_path: Path
):
    database = private_postgres.database()
    server = start_server("pg", database=database, args=("--no-housekeeping",))
    secret = server.secret()
    agents, owner = _enrolled_agents(tmp_path, server, secret, count=40, reports=25)
    storm = Storm(agents)
    storm.start()
    while len(_acknowledged(agents)) < 300:
        time.sleep(0.01)
        assert not storm.errors, storm.errors
    private_postgres.stop()
    down_at = len([item for agent in agents for item in agent.exchanges])
    time.sleep(4)  # the agents keep trying, as their waits allow
    storm.hold()
    refused = [item for agent in agents for item in agent.exchanges[:] if item.status == 503]
    assert refused, "the server never said 503"
    assert server.process.poll() is None  # the server itself stays up
    acknowledged = _acknowledged(agents)
    for agent in agents:
        mine = [report_id for report_id, who in owner.items() if who is agent]
        assert agent.spooled() == [report_id for report_id in mine if report_id not in acknowledged]
    private_postgres.run_server()
    storm.resume()
    storm.finish()

    stored = _pg_report_ids(private_postgres, database)
    print(f"postgres: {len(refused)} answers 503 while it was down, {len(stored)} reports in the store")
    assert sorted(stored) == sorted(owner)  # 0 lost, 0 twice
    _check_nothing_stored_twice(agents)
    # The agents backed off: after a 503, an agent's next request came no earlier (on its clock) than the
    # Retry-After asked, and during the outage no agent sent more than a few requests.
    for agent in agents:
        reports = [item for item in agent.exchanges if item.kind == "report"]
        for before, after in itertools.pairwise(reports):
            if before.status == 503:
                assert before.retry_after is not None and before.retry_after >= 30
                assert after.at >= before.at + dt.timedelta(seconds=before.retry_after)
    during = len([item for agent in agents for item in agent.exchanges]) - down_at
    assert during > 0


# --- a week offline ---------------------------------------------------------------------------------------


def test_an_agent_offline_for_a_week_ships_its_spool_once_oldest_first_within_the_cap(
    start_server, secret_file, tmp_path: Path
):
    server = start_server("week")
    agent = Agent(tmp_path / "laptop", server.url, hostname="laptop-7", secret_file=secret_file)
    agent.spool(real_report())
    assert agent.ship(patience=600).sent == 1  # enrolled, and its first report in
    agent.offline = True
    start = agent.now
    reports = variants(24)
    spooled_most = 0
    for hour in range(7 * 24):  # the machine timer: a check every hour, each followed by a try to ship
        agent.now = max(agent.now, start + dt.timedelta(hours=hour + 1))
        agent.spool(reports[hour % 24])
        spooled_most = max(spooled_most, len(agent.spooled()))
        result = agent.ship(patience=600)
        assert result.state in ("waiting", "retrying") and result.sent == 0  # not due yet, or failed
    offline_tries = [item for item in agent.exchanges if item.failure == "offline"]
    # Backoff with full jitter, up to an hour: a couple of tries an hour, not one every few seconds.
    assert 7 * 24 <= len(offline_tries) <= 2 * 7 * 24 + 12
    assert spooled_most == MAX_REPORTS  # within the cap: the 101st collapsed the spool to the newest
    waiting = agent.spooled()
    assert len(waiting) == 7 * 24 - MAX_REPORTS  # what came after the collapse, all kept

    agent.offline = False
    agent.wait_until_due()  # the next timer run after the backoff's wait
    before = len(agent.exchanges)
    result = agent.ship(patience=600)
    assert result.state == "done" and result.sent == len(waiting) and result.left == 0
    back = agent.exchanges[before:]
    assert [item.report_id for item in back] == waiting  # oldest first, each once, one request per report
    assert all(item.status == 202 and item.outcome == "stored" for item in back)
    assert all(later.at >= earlier.at for earlier, later in itertools.pairwise(back))
    stored = seen_report_ids(server.data)
    assert set(waiting) <= set(stored) and len(stored) == len(waiting) + 1
    # And then it is quiet again until the server's next_check_in.
    agent.spool(real_report())
    assert agent.ship(patience=0).state == "waiting" and len(agent.exchanges) == before + len(waiting)


# --- clock skew -------------------------------------------------------------------------------------------


def _rules(folder: Path, today: dt.date, serial: int, minimum: str) -> Path:
    """A rule file: Chrome's minimum with a 14-day grace that started yesterday."""
    rules = {
        "schema": "clientcheck.rules/1",
        "publisher": "Skew test",
        "serial": serial,
        "published": (today - dt.timedelta(days=1)).isoformat(),
        "expires": (today + dt.timedelta(days=60)).isoformat(),
        "rules": [
            {
                "id": "chrome",
                "product": ["chrome", "chromium"],
                "minimum": minimum,
                "grace": {"since": (today - dt.timedelta(days=1)).isoformat(), "days": 14},
            }
        ],
    }
    path = folder / f"rules-{serial}.json"
    path.write_text(json.dumps(rules))
    return path


def _judged(rules: Path, now: dt.datetime, tmp_path: Path) -> dict:
    """This agent's own judgement of a fixture machine, by its clock."""
    out = tmp_path / f"report-{time.monotonic_ns()}.json"
    from clientcheck.config import Places

    nowhere = str(tmp_path / "none.toml")
    state = tmp_path / f"state-{time.monotonic_ns()}"
    status = main(
        [
            "check",
            "--format",
            "json",
            "--root",
            str(LINUX_FIXTURES / "debian-12-desktop" / "root"),
            "--platform",
            "linux",
            "--rules",
            str(rules),
            "-o",
            str(out),
        ],
        env={"CLIENTCHECK_STATE_DIR": str(state), "CLIENTCHECK_CACHE_DIR": str(state)},
        now=now,
        places=Places(machine=nowhere, user=None, managed=nowhere),
    )
    assert status in (0, 1)
    return json.loads(out.read_text())


@pytest.mark.parametrize(
    ("skew", "from_the_start", "flagged"),
    [
        (dt.timedelta(hours=1), True, True),
        (dt.timedelta(hours=-1), True, False),
        (dt.timedelta(days=365), False, True),  # a clock that jumped a year ahead after its first report
        (dt.timedelta(days=-365), True, True),
    ],
    ids=["hour-ahead", "hour-behind", "year-ahead", "year-behind"],
)
def test_clock_skew_changes_no_history_order_and_no_deadline(
    start_server, secret_file, tmp_path: Path, skew: dt.timedelta, from_the_start: bool, flagged: bool
):
    server = start_server("skew")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    today = now.date()
    due_rules = _rules(tmp_path, today, 1, "132.0")  # Chrome 131 and 130 are due, 14 days from yesterday
    fixed_rules = _rules(tmp_path, today, 2, "130.0")  # then the minimum is met: ok
    deadline = (today + dt.timedelta(days=13)).isoformat()
    hosts = {}
    for name, offset in (("reference", dt.timedelta(0)), ("skewed", skew)):
        agent = Agent(tmp_path / name, server.url, hostname=f"ws-{name}", secret_file=secret_file)
        first_offset = offset if from_the_start else dt.timedelta(0)
        steps = [(due_rules, first_offset), (due_rules, offset), (fixed_rules, offset)]
        for step, (rules, shift) in enumerate(steps):
            # The agent's clock: the server's (this machine's), give or take the skew.
            agent.now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + shift
            report = _judged(rules, agent.now, tmp_path)
            if step == 1:
                chrome = [finding["status"] for finding in report["findings"] if finding["rule"] == "chrome"]
                # The agent's own verdict: a year ahead, it thinks the grace is over.
                assert set(chrome) == ({"owed"} if skew.days >= 365 and name == "skewed" else {"due"})
            agent.spool(report)
            assert agent.ship(explicit=True).sent == 1  # a person's run: now, whatever next_check_in says
            if step == 1:  # while due: the deadline is the rule's, on the server, whatever the agent's clock
                enrollment = agent.collector.enrollment()
                detail = api(server, f"/api/v1/hosts/{enrollment.host_id}")
                states = {(state["status"], state["deadline"]) for state in detail["rule_states"]}
                assert states == {("due", deadline)}, (name, states)
        hosts[name] = api(server, f"/api/v1/hosts/{agent.collector.enrollment().host_id}")

    def history(host: dict) -> list[tuple[str, str, str]]:
        changes = list(reversed(host["history"]))  # the API gives the newest first (by time, then by order)
        assert [change["at"] for change in changes] == sorted(change["at"] for change in changes)
        return [(change["rule"], change["old"], change["new"]) for change in changes]

    assert (
        history(hosts["skewed"])
        == history(hosts["reference"])
        == [
            ("chrome", "absent", "due"),
            ("chrome", "due", "ok"),
        ]
    )
    times = [change["at"] for change in hosts["skewed"]["history"]]
    assert all(abs(dt.datetime.fromisoformat(at.replace("Z", "+00:00")) - now) < dt.timedelta(hours=1) for at in times)
    assert hosts["skewed"]["flags"]["clock_skew"] is flagged
    assert hosts["reference"]["flags"]["clock_skew"] is False


def test_a_clock_set_back_does_not_silence_the_shipper(start_server, secret_file, tmp_path: Path):
    """After a 202 the next session waits for next_check_in, by this machine's clock. A clock set back a
    year would make that a year: the shipper takes such a wait for the clock's fault, not the server's."""
    server = start_server("back")
    agent = Agent(tmp_path / "a", server.url, hostname="ws-back", secret_file=secret_file)
    agent.spool(variants(2)[0])
    assert agent.ship(explicit=True).sent == 1
    agent.now -= dt.timedelta(days=365)
    agent.spool(variants(2)[1])
    assert agent.ship().sent == 1


# --- deleted hosts and revoked secrets --------------------------------------------------------------------


def test_a_deleted_host_s_agent_stops_and_does_not_come_back_by_itself(start_server, secret_file, tmp_path: Path):
    server = start_server("deleted")
    agent = Agent(tmp_path / "gone", server.url, hostname="ws-gone", secret_file=secret_file)
    agent.spool(variants(3)[0])
    agent.ship(explicit=True)
    host_id = agent.collector.enrollment().host_id
    cli(server.data, "host", "delete", str(host_id))
    kept = [agent.spool(variants(3)[1])]
    agent.wait_until_due()  # the next run after the server's next_check_in
    result = agent.ship(patience=600)
    assert result.state == "revoked" and "an admin removed this host" in result.message
    assert agent.exchanges[-1].status == 401 and agent.exchanges[-1].outcome == "revoked"
    assert agent.collector.enrollment() is None and agent.collector.revoked()  # the key is gone
    assert agent.spooled() == kept  # the spool is kept
    # It does not come back by itself: a secret is at hand, the timer runs, the clock moves on; nothing is
    # sent, and a check does not even spool.
    sent = len(agent.exchanges)
    for _ in range(3):
        agent.now += dt.timedelta(days=1)
        assert agent.ship(patience=600).state == "revoked"
    assert len(agent.exchanges) == sent
    from clientcheck.config import Places, load_settings

    managed = tmp_path / "managed.toml"
    managed.write_text(f'[report]\nserver = "{server.url}"\nenroll_secret = "{secret_file}"\n')
    settings = load_settings("linux", {}, {}, Places(machine=None, user=None, managed=str(managed)))
    decided = plan(settings, {"CLIENTCHECK_STATE_DIR": str(tmp_path / "gone")}, "linux", machine=True)
    assert decided.collector is None and "removed from the collector by an admin" in (decided.warning or "")
    assert api(server, "/api/v1/hosts?archived=all")["count"] == 0
    # An admin who wants it back enrolls it again, by hand: the same agent id, a new host; the spool ships.
    agent.enroll(server.url, secret_file.read_text().strip())
    assert agent.ship(explicit=True).sent == 1 and agent.spooled() == []
    assert api(server, "/api/v1/hosts")["count"] == 1


def test_a_revoked_secret_stops_new_enrollments_and_leaves_enrolled_hosts_shipping(
    start_server, secret_file, tmp_path: Path
):
    server = start_server("secrets")
    enrolled = Agent(tmp_path / "old", server.url, hostname="ws-old", secret_file=secret_file)
    enrolled.spool(variants(2)[0])
    assert enrolled.ship(explicit=True).sent == 1
    cli(server.data, "secret", "revoke", secret_file.read_text().strip())
    newcomer = Agent(tmp_path / "new", server.url, hostname="ws-new", secret_file=secret_file)
    newcomer.spool(real_report())
    refused = newcomer.ship(explicit=True)
    assert refused.state == "refused-secret" and newcomer.exchanges[-1].status == 401
    assert newcomer.collector.enrollment() is None and len(newcomer.spooled()) == 1
    # The enrolled host keeps shipping with its key.
    enrolled.spool(variants(2)[1])
    enrolled.wait_until_due()
    assert enrolled.ship().sent == 1
    assert enrolled.exchanges[-1].outcome == "stored"
    assert [host["hostname"] for host in api(server, "/api/v1/hosts")["results"]] == ["ws-old"]
