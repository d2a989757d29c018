"""`clientcheck login`: lock, skip when recent, random delay, the recorded history, and the one notice."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clientcheck.config import Places
from clientcheck.login import LoginRun, Notice, StateFolder, file_link, login, notice
from clientcheck.model import Finding, Inventory, OSInfo, Report, RulesInfo
from clientcheck.version import Version
from conftest import DEFAULT_RULES

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)
SETTINGS = {"login.delay": 10, "login.interval": 3600, "login.notify": True, "login.history": 3}


def _finding(name: str, status: str, installed: str, required: str | None, **extra) -> Finding:
    return Finding(
        rule=name.lower(),
        product=name.lower(),
        name=name,
        status=status,  # type: ignore[arg-type]
        severity=extra.pop("severity", "required"),
        installed=Version(installed),
        required=Version(required) if required else None,
        message=extra.pop("message", f"Update {name}"),
        **extra,
    )


def _report(*findings: Finding, language: str = "en", at: dt.datetime = NOW) -> Report:
    os_info = OSInfo("linux", "debian", "Debian GNU/Linux", Version("12.8"))
    rules = RulesInfo("bundled", 2026112501, "0" * 64, "clientcheck", dt.date(2026, 11, 25), dt.date(2027, 1, 31))
    return Report(at, Inventory(os_info), findings, rules, language)


OWED = _report(
    _finding("Firefox ESR", "owed", "128.5.0esr", "153.6", message="Aktualisieren Sie Firefox ESR"),
    _finding("Chromium", "due", "155.0.7000.1", "156", deadline=dt.date(2026, 12, 2)),
    language="de",
)
ALL_OK = _report(_finding("Firefox", "ok", "158.0", "158"))


def test_no_notice_when_all_is_well_or_only_unknown():
    assert notice(ALL_OK, None) is None
    assert notice(_report(_finding("Okular", "unknown", "1", None)), None) is None


def test_the_notice_is_in_the_persons_language_and_says_what_to_do():
    shown = notice(OWED, "file:///home/a/.local/state/clientcheck/last.html")
    assert shown is not None
    assert shown.title == "1 Update auf diesem Computer fällig"
    assert shown.body.splitlines()[:2] == [
        "• Aktualisieren Sie Firefox ESR (Firefox ESR 128.5.0esr): auf 153.6 aktualisieren",
        "• Update Chromium (Chromium 155.0.7000.1): auf 156 aktualisieren, fällig ab 2. Dezember: noch 7 Tage",
    ]
    assert shown.url == "file:///home/a/.local/state/clientcheck/last.html"
    assert shown.urgent is True


def test_only_due_items_make_a_gentler_notice_and_long_lists_are_counted():
    due = [_finding(f"App{n}", "due", "1.0", "2.0", deadline=dt.date(2026, 12, 9)) for n in range(5)]
    shown = notice(_report(*due, language="pt-BR"), None)
    assert shown is not None
    assert shown.title == "Atualizações a vencer neste computador"
    assert shown.body.splitlines()[-1] == "e mais 2"
    assert shown.urgent is False
    english = notice(_report(*due, language="sv"), None)  # no Swedish words: English
    assert english is not None
    assert english.title == "Updates due soon on this computer"


def test_file_links():
    assert file_link("/home/ana maria/.local/state/clientcheck/last.html") == (
        "file:///home/ana%20maria/.local/state/clientcheck/last.html"
    )
    assert file_link("C:\\Users\\jürgen\\AppData\\Local\\clientcheck\\last.html") == (
        "file:///C:/Users/j%C3%BCrgen/AppData/Local/clientcheck/last.html"
    )


class Recorder:
    def __init__(self, report: Report = OWED, refuse: str | None = None) -> None:
        self.report = report
        self.refuse = refuse
        self.judged = 0
        self.notices: list[Notice] = []
        self.warnings: list[str] = []
        self.slept: list[float] = []
        self.previous: list[object] = []
        self.withdrawn: list[dict] = []

    def run(self, state: StateFolder, now: dt.datetime = NOW, **options) -> LoginRun:
        def judge() -> Report:
            self.judged += 1
            return self.report.replace(generated_at=now)

        def render(report: Report, fmt: str) -> str:
            return json.dumps({"format": fmt, "status": report.status, "at": report.generated_at.isoformat()})

        def show(shown: Notice, previous: object) -> tuple[str | None, dict | None]:
            self.notices.append(shown)
            self.previous.append(previous)
            return self.refuse, (
                None if self.refuse else {"platform": "linux", "id": len(self.notices), "server": ":1.9"}
            )

        def withdraw(handle: dict) -> str | None:
            self.withdrawn.append(handle)
            return None

        settings = {**SETTINGS, **options.pop("settings", {})}
        outcome, _ = login(
            state,
            settings,
            now,
            judge,
            render,
            show,
            self.warnings.append,
            sleep=self.slept.append,
            fraction=lambda: 0.5,
            withdraw=withdraw,
            **options,
        )
        return outcome


def test_a_run_records_the_report_waits_and_notifies(tmp_path: Path):
    state = StateFolder(str(tmp_path / "state" / "clientcheck"))
    recorder = Recorder()
    outcome = recorder.run(state)
    assert outcome.status == "owed"
    assert outcome.notified == "shown"
    assert recorder.slept == [5.0]  # half of the 10 s delay, as the random fraction said
    assert len(recorder.notices) == 1
    folder = tmp_path / "state" / "clientcheck"
    assert json.loads((folder / "last.json").read_text())["format"] == "json"
    assert json.loads((folder / "last.html").read_text())["format"] == "html"
    assert [p.name for p in (folder / "history").iterdir()] == ["20261125T090000Z.json"]
    assert (folder / "last.json").stat().st_mode & 0o777 == 0o600
    assert (folder / "login.lock").stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700
    assert recorder.notices[0].url == file_link(str(folder / "last.html"))


def test_a_run_waits_for_the_disk_only_for_its_history_entry(tmp_path: Path, monkeypatch):
    # last.json, last.html, last-complete and notice.json are made again by the next run: a crash may leave
    # one empty (never half-written: they are still renamed into place), and nothing reads them back as
    # data. The history entry is the record a person looks back at: the file and its folder are synced.
    folder = tmp_path / "state" / "clientcheck"
    state = StateFolder(str(folder))
    synced: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real_fsync(fd))
    assert Recorder().run(state).status == "owed"
    # The entry's temporary file (synced before it is renamed into place), then the history folder.
    assert len(synced) == 2, synced
    assert Path(synced[0]).parent == folder / "history" and Path(synced[0]).name.startswith(".20261125T090000Z.json.")
    assert synced[1] == str(folder / "history")
    assert {name: (folder / name).stat().st_mode & 0o777 for name in ("last.json", "last.html", "last-complete")} == {
        "last.json": 0o600,
        "last.html": 0o600,
        "last-complete": 0o600,
    }
    assert not [name for name in os.listdir(folder) if name.endswith(".tmp")]


def test_a_recent_run_is_not_repeated_unless_forced(tmp_path: Path):
    state = StateFolder(str(tmp_path))
    recorder = Recorder()
    recorder.run(state)
    last = tmp_path / "last-complete"
    os.utime(last, (NOW.timestamp() - 600, NOW.timestamp() - 600))  # ten minutes ago
    assert recorder.run(state).status == "skipped-recent"
    assert recorder.judged == 1
    forced = recorder.run(state, force=True)
    assert (forced.status, forced.waited) == ("owed", 0.0)
    os.utime(last, (NOW.timestamp() - 7200, NOW.timestamp() - 7200))  # two hours ago: due again
    assert recorder.run(state).status == "owed"
    # A last run "in the future" (a clock set back) does not stop runs for good.
    os.utime(last, (NOW.timestamp() + 86400, NOW.timestamp() + 86400))
    assert recorder.run(state).status == "owed"


def test_the_history_keeps_the_newest(tmp_path: Path):
    state = StateFolder(str(tmp_path))
    recorder = Recorder()
    for hour in range(6):
        recorder.run(state, now=NOW + dt.timedelta(hours=hour * 2))
    names = sorted(p.name for p in (tmp_path / "history").iterdir())
    assert names == ["20261125T150000Z.json", "20261125T170000Z.json", "20261125T190000Z.json"]


def test_nothing_owed_means_no_notice(tmp_path: Path):
    recorder = Recorder(ALL_OK)
    outcome = recorder.run(StateFolder(str(tmp_path)))
    assert (outcome.status, outcome.notified, recorder.notices) == ("ok", None, [])


def test_notifications_switched_off(tmp_path: Path):
    recorder = Recorder()
    outcome = recorder.run(StateFolder(str(tmp_path)), settings={"login.notify": False})
    assert (outcome.notified, recorder.notices) == (None, [])


def test_a_refused_notification_is_a_warning_not_a_failure(tmp_path: Path):
    recorder = Recorder(refuse="no session bus (DBUS_SESSION_BUS_ADDRESS unset)")
    outcome = recorder.run(StateFolder(str(tmp_path)))
    assert outcome.status == "owed"
    assert recorder.warnings == ["could not show the notification: no session bus (DBUS_SESSION_BUS_ADDRESS unset)"]
    assert (tmp_path / "last.json").exists()
    # Not counted as a complete run: the next login (within the hour) tries to tell the person again.
    assert not (tmp_path / "last-complete").exists()
    assert recorder.run(StateFolder(str(tmp_path)), now=NOW + dt.timedelta(minutes=5)).status == "owed"


def test_a_run_on_fallen_back_rules_is_tried_again_at_the_next_login(tmp_path: Path):
    fallen_back = OWED.replace(rules=OWED.rules.replace(fallback_reason="cannot reach rules.example.com"))
    recorder = Recorder(fallen_back)
    recorder.run(StateFolder(str(tmp_path)))
    assert not (tmp_path / "last-complete").exists()
    assert recorder.run(StateFolder(str(tmp_path)), now=NOW + dt.timedelta(minutes=5)).status == "owed"
    assert recorder.judged == 2


def test_a_state_folder_that_is_not_ours_is_a_clear_error(tmp_path: Path):
    from clientcheck.errors import OutputError

    (tmp_path / "login.lock").mkdir()
    with pytest.raises(OutputError, match="cannot open the lock"):
        Recorder().run(StateFolder(str(tmp_path)))


def test_the_history_goes_by_when_reports_were_written_not_their_names(tmp_path: Path):
    state = StateFolder(str(tmp_path))
    recorder = Recorder()
    recorder.run(state, now=dt.datetime(2035, 1, 1, tzinfo=dt.timezone.utc))  # the clock was once set ahead
    future = tmp_path / "history" / "20350101T000000Z.json"
    os.utime(future, (NOW.timestamp() - 86400, NOW.timestamp() - 86400))
    (tmp_path / "history" / ".20261124T000000Z.json.abc123.tmp").write_text("{")  # a crashed write
    for hour in range(3):
        recorder.run(state, now=NOW + dt.timedelta(hours=2 * hour), force=True)
    names = sorted(p.name for p in (tmp_path / "history").iterdir())
    assert names == ["20261125T090000Z.json", "20261125T110000Z.json", "20261125T130000Z.json"]


def test_a_second_run_while_one_holds_the_lock_leaves_at_once(tmp_path: Path):
    state = StateFolder(str(tmp_path))
    state.ensure()
    # Another process holds the lock (a real flock, in a real process).
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            # Made owner-only as clientcheck makes it (one others could read would be replaced as suspect).
            "import fcntl, os, sys, time; f = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600);"
            " fcntl.flock(f, fcntl.LOCK_EX);"
            " print('held', flush=True); time.sleep(30)",
            str(tmp_path / "login.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        recorder = Recorder()
        assert recorder.run(state).status == "skipped-running"
        assert recorder.judged == 0
    finally:
        holder.kill()
        holder.wait()
    # The holder died without cleaning up (as a crashed run would): the lock is free again.
    assert Recorder().run(state).status == "owed"


def _cli_env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home"), "XDG_STATE_HOME": str(tmp_path / "state")}


def test_the_login_command_end_to_end_without_a_session_bus(run_cli, tmp_path: Path):
    # This machine, judged by rules no release can meet, with no display and no session bus: the run records
    # its report, warns that the notification could not be shown, and exits as check would.
    rules = json.loads(DEFAULT_RULES.read_text())
    rules["rules"] = [{"id": "os", "product": rules["rules"][0]["product"], "minimum": "999"}, *rules["rules"]]
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps(rules))
    now = dt.datetime.now(dt.timezone.utc)  # the recorded report's file time is the real one
    run = run_cli("login", "--force", "--rules", str(strict), env=_cli_env(tmp_path), now=now)
    assert run.out == ""
    state = tmp_path / "state" / "clientcheck"
    report = json.loads((state / "last.json").read_text())
    assert report["schema"] == "clientcheck.report/1"
    assert (state / "last.html").read_text().startswith("<!DOCTYPE html>")
    if report["summary"]["status"] in ("owed", "unsupported"):
        assert run.status == 1
        assert "clientcheck: warning: could not show the notification: " in run.err
    # The person was not told (no session bus): the next login tries again instead of skipping.
    again = run_cli("login", "--rules", str(strict), env=_cli_env(tmp_path), now=now)
    assert again.status == run.status
    assert again.err == run.err
    # Told, or nothing to tell: a second login straight after is skipped quietly.
    rules["rules"] = rules["rules"][1:]
    rules["rules"] = [{"id": "none", "product": "netscape", "minimum": "1"}]
    strict.write_text(json.dumps(rules))
    assert run_cli("login", "--force", "--rules", str(strict), env=_cli_env(tmp_path), now=now).status == 0
    quiet = run_cli("login", "--rules", str(strict), env=_cli_env(tmp_path), now=now)
    assert (quiet.status, quiet.out, quiet.err) == (0, "", "")
    assert not (tmp_path / "state" / "clientcheck" / "login.lock").read_bytes()


def test_login_without_a_home_is_a_clear_error(run_cli):
    run = run_cli("login", "--force", env={})
    assert run.status == 5
    assert run.err.startswith("clientcheck: error: login: no state folder")


def test_login_reads_its_settings_from_the_configuration(run_cli, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[login]\ninterval = "0"\nhistory = 0\nnotify = false\n')
    env = _cli_env(tmp_path)
    places = Places(machine=str(tmp_path / "none.toml"), user=str(config), managed=None)
    for _ in range(2):
        run = run_cli("login", "--delay", "0", places=places, env=env)
        assert "notification" not in run.err
    state = tmp_path / "state" / "clientcheck"
    assert (state / "last.json").exists()
    assert list((state / "history").iterdir()) == []  # history = 0 keeps none
    bad = run_cli("login", "--delay", "soon", places=places, env=env)
    assert bad.status == 2
    assert "--delay: 'soon' is not a duration" in bad.err


def test_the_notice_says_when_the_clock_or_the_rules_are_in_doubt_or_places_unreadable():
    from clientcheck.model import Unreadable

    owed = OWED.replace(language="en")
    future = owed.rules.replace(
        published=dt.date(2026, 11, 20), expires=dt.date(2026, 11, 30), published_in_future=True
    )
    message = notice(owed.replace(rules=future, as_of=dt.date(2020, 1, 1)), None)
    assert message is not None
    assert (
        message.body.splitlines()[-1]
        == "The rules are dated November 20, 2026, after today: this computer's clock may be wrong"
    )
    stale = owed.rules.replace(stale=True, expires=dt.date(2026, 11, 1))
    message = notice(owed.replace(rules=stale), None)
    assert message is not None
    assert message.body.splitlines()[-1] == "The rules used expired on November 1, 2026: newer updates may be needed"
    closed = Unreadable("/home/ana/.local/share/applications", "cannot read: Permission denied", "applications")
    message = notice(owed.replace(inventory=owed.inventory.replace(unreadable=(closed,))), None)
    assert message is not None
    assert message.body.splitlines()[-1].startswith("Some places on this computer could not be checked")
    german = notice(OWED.replace(rules=stale), None)
    assert german is not None
    assert german.body.splitlines()[-1].startswith("Die verwendeten Regeln sind am 1. November 2026 abgelaufen")
    # Nothing owed or due: no notice, however doubtful the rules (the report says it; the person cannot act).
    assert notice(ALL_OK.replace(rules=future), None) is None


def test_a_new_notice_replaces_the_last_and_a_notice_no_longer_true_is_taken_back(tmp_path: Path):
    state = StateFolder(str(tmp_path))
    recorder = Recorder()
    recorder.run(state)
    assert recorder.previous == [None]  # nothing shown before
    handle = json.loads((tmp_path / "notice.json").read_text())
    assert handle == {"platform": "linux", "id": 1, "server": ":1.9"}
    assert (tmp_path / "notice.json").stat().st_mode & 0o777 == 0o600
    recorder.run(state, force=True)
    assert recorder.previous[-1] == handle  # the second notice is shown in place of the first
    # Updated since: nothing owed, so the notice that says otherwise is taken back, and forgotten.
    recorder.report = ALL_OK
    outcome = recorder.run(state, force=True)
    assert (outcome.notified, recorder.withdrawn) == (None, [{"platform": "linux", "id": 2, "server": ":1.9"}])
    assert not (tmp_path / "notice.json").exists()
    recorder.run(state, force=True)
    assert len(recorder.withdrawn) == 1  # nothing left to take back


def test_notices_switched_off_take_the_last_one_back(tmp_path: Path):
    state = StateFolder(str(tmp_path))
    recorder = Recorder()
    recorder.run(state)
    recorder.run(state, force=True, settings={"login.notify": False})
    assert len(recorder.notices) == 1 and len(recorder.withdrawn) == 1


def test_the_notice_offers_check_again_as_the_command_that_runs_a_login_now(tmp_path: Path):
    state = StateFolder(str(tmp_path))
    recorder = Recorder()
    recorder.run(state, recheck=lambda: ("/usr/bin/clientcheck", "login", "--force"))
    (action,) = [action for action in recorder.notices[0].actions if action.key == "recheck"]
    assert (action.label, action.argv, action.uri) == (
        "Erneut prüfen",
        ("/usr/bin/clientcheck", "login", "--force"),
        None,
    )


def test_a_quiet_login_does_not_work_out_how_to_check_again(tmp_path: Path):
    asked = []
    recorder = Recorder(ALL_OK)
    recorder.run(StateFolder(str(tmp_path)), recheck=lambda: asked.append(1) or ("x",))
    assert asked == []  # the command (found through autostart's module) only when there is a notice
