"""A notice's buttons, on a real session bus with dunst (as tests/test_notify_linux.py sets them up, in a
throw-away root): the login run hands the notification to a detached listener, which shows it and acts on
the service's ActionInvoked signal: the software center the catalog names for a package's update, the
report for a click on the notice, and "check again", which runs ``clientcheck login --force``; that run
replaces the notice with what is true now, or takes it back when nothing is owed any more.

dunst shows a notification's buttons in a context menu, through the program its ``dmenu`` setting names;
here that is a script that picks the entry with the label the test asks for (``choose``), as a person picks
one. Programs the buttons start are stand-ins on PATH that write down how they were started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from clientcheck.notify import listener, present, withdraw
from conftest import make_throwaway_root, missing
from test_notify_linux import PACKAGES, TOOLS, session_bus, wait_for

ENTRY = "clientcheck"  # the console script beside this interpreter runs the listener and "check again"


class Desk:
    """Xvfb, a session bus and dunst whose context menu picks what ``choose`` says."""

    def __init__(self, folder: Path, address: str, display: str) -> None:
        self.folder = folder
        self.address = address
        self.display = display
        self.bin = folder / "bin"
        self.started = folder / "started"  # what the stand-in programs write down, one JSON line each

    def env(self, **extra: str) -> dict[str, str]:
        path = f"{self.bin}:{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '/usr/bin:/bin')}"
        return {**os.environ, "PATH": path, "DBUS_SESSION_BUS_ADDRESS": self.address, "DISPLAY": self.display, **extra}

    def ctl(self, *arguments: str) -> str:
        return subprocess.run(
            [TOOLS["dunstctl"], *arguments], env=self.env(), check=True, timeout=10, capture_output=True, text=True
        ).stdout

    def choose(self, label: str) -> None:
        """Open dunst's context menu and pick the entry whose text holds ``label``."""
        (self.folder / "choice").write_text(label)
        self.ctl("context")

    def displayed(self) -> int:
        return int(self.ctl("count", "displayed").strip())

    def starts(self) -> list[list[str]]:
        if not self.started.exists():
            return []
        return [json.loads(line) for line in self.started.read_text().splitlines()]

    def history(self) -> list[dict[str, object]]:
        document = json.loads(self.ctl("history"))
        return [{key: value["data"] for key, value in entry.items()} for entry in document["data"][0]]


STAND_IN = """#!{python}
import json, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv) + "\\n")
"""
# dunst writes one line per action to the menu program's stdin and reads the chosen line from its stdout.
MENU = """#!/bin/sh
tee -a {menu_log} | grep -F -- "$(cat {choice})" | head -n 1
"""


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory):
    for name in ("dbus-daemon", "dbus-monitor", "dbus-send", "Xvfb", "dunst", "dunstctl", "busctl"):
        if not TOOLS[name]:
            missing(f"{name} not installed (apt-get install {PACKAGES[name]})")
    root = make_throwaway_root(tmp_path_factory.mktemp("desk-root"))
    folder = tmp_path_factory.mktemp("desk")
    try:
        yield from _desk(root, folder)
    finally:
        root.stop()


def _desk(root, folder: Path):
    (folder / "bin").mkdir()
    for program in ("gnome-software", "xdg-open"):
        stand_in = folder / "bin" / program
        stand_in.write_text(STAND_IN.format(python=sys.executable, log=str(folder / "started")))
        stand_in.chmod(0o755)
    menu = folder / "menu"
    menu.write_text(MENU.format(menu_log=folder / "menu.log", choice=folder / "choice"))
    menu.chmod(0o755)
    runtime = folder / "runtime"
    runtime.mkdir(mode=0o700)
    read_end, write_end = os.pipe()
    xvfb = root.popen(
        [TOOLS["Xvfb"], "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0", "800x600x24"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as stream:
            number = stream.readline().strip()
        if not number:
            pytest.fail("Xvfb did not start")
        with session_bus(root, folder, f"unix:path={runtime / 'bus'}") as bus:
            config = folder / "dunstrc"
            # No timeout: a notification stays until it is acted on or closed, whatever its urgency.
            config.write_text(
                "[global]\n    markup = full\n    history_length = 200\n"
                f'    dmenu = "{menu}"\n\n'
                "[urgency_low]\n    timeout = 0\n[urgency_normal]\n    timeout = 0\n"
                "[urgency_critical]\n    timeout = 0\n"
            )
            desk = Desk(folder, bus.address, f":{number}")
            dunst = root.popen(
                [TOOLS["dunst"], "-config", str(config)],
                env=desk.env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                ping = [
                    TOOLS["dbus-send"],
                    "--print-reply",
                    "--dest=org.freedesktop.Notifications",
                    "/org/freedesktop/Notifications",
                    "org.freedesktop.Notifications.GetServerInformation",
                ]
                wait_for(
                    lambda: subprocess.run(ping, env=desk.env(), capture_output=True).returncode == 0,
                    "dunst to own org.freedesktop.Notifications",
                )
                yield desk
            finally:
                dunst.terminate()
                dunst.wait(timeout=10)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


def _zombies_of(parent: int) -> list[int]:
    """The children of ``parent`` that ended and were not waited for."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] == "Z" and int(fields[1]) == parent:
            found.append(int(entry))
    return found


def _listeners(desk: Desk) -> list[int]:
    """The listeners running for this desk's bus (found by their command line and environment)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if listener.COMMAND.encode() in command and desk.address.encode() in environ:
            found.append(int(entry))
    return found


@contextmanager
def clean(desk: Desk):
    """Each test starts with no notification on screen and no listener left from another."""
    desk.ctl("close-all")
    wait_for(lambda: not _listeners(desk), "the listeners of earlier tests to leave")
    for left in (desk.started, desk.folder / "menu.log"):
        if left.exists():
            left.unlink()
    yield
    desk.ctl("close-all")


def _self() -> list[str]:
    return [os.path.join(os.path.dirname(sys.executable), ENTRY)]


def test_a_button_starts_the_software_center_through_the_listener(desk: Desk):
    with clean(desk):
        reason, handle = present(
            "1 update owed on this computer",
            "• Update Chromium (Chromium 130.0): update to 156.0",
            url="file:///tmp/clientcheck-test/last.html",
            link_label="Open the full report",
            critical=True,
            actions=[
                {"key": "fix-0", "label": "Update with Software", "argv": ["gnome-software", "--mode=updates"]},
                {"key": "recheck", "label": "Check again", "argv": [*_self(), "--version"]},
            ],
            command=_self(),
            platform="linux",
            env=desk.env(),
        )
        assert reason is None
        assert handle is not None and handle["platform"] == "linux" and isinstance(handle["id"], int)
        assert handle["server"].startswith(":")  # the notification service's unique name on the bus
        assert desk.displayed() == 1
        assert len(_listeners(desk)) == 1  # the login run has returned; the listener stays
        desk.choose("Update with Software")
        wait_for(lambda: desk.starts(), "the software center to be started")
        started = desk.starts()
        assert len(started) == 1
        assert started[0][0].endswith("/bin/gnome-software")  # found on the session's PATH
        assert started[0][1:] == ["--mode=updates"]  # exactly the catalog's arguments
        # The program ended: the listener waited for it, and keeps no zombie for its remaining minutes.
        [pid] = _listeners(desk)
        wait_for(lambda: _zombies_of(pid) == [], "the listener to reap the program it started")
        # The update is under way, not made: dunst keeps the notice (a server may close it, the spec says,
        # unless it is resident), and the listener stays with it, for "check again"; it leaves with it.
        assert desk.displayed() == 1
        assert len(_listeners(desk)) == 1
        desk.ctl("close-all")
        wait_for(lambda: not _listeners(desk), "the listener to leave with its notice")


def test_a_click_on_the_notice_opens_the_report(desk: Desk):
    with clean(desk):
        reason, _handle = present(
            "Updates due soon on this computer",
            "• Update Chromium (Chromium 130.0): update to 156.0, owed from 9 December: 8 days left",
            url="file:///tmp/clientcheck-test/last.html",
            link_label="Open the full report",
            actions=[{"key": "recheck", "label": "Check again", "argv": [*_self(), "--version"]}],
            command=_self(),
            platform="linux",
            env=desk.env(),
        )
        assert reason is None
        desk.ctl("action")  # the default action: what a click on the notification does
        wait_for(lambda: desk.starts(), "the report to be opened")
        assert desk.starts()[0][1:] == ["file:///tmp/clientcheck-test/last.html"]
        assert desk.starts()[0][0].endswith("/bin/xdg-open")


def test_a_signal_from_anyone_but_the_service_is_not_obeyed(desk: Desk):
    with clean(desk):
        reason, handle = present(
            "Forged signal test",
            "x",
            actions=[{"key": "fix-0", "label": "Update with Software", "argv": ["gnome-software", "--mode=updates"]}],
            command=_self(),
            platform="linux",
            env=desk.env(),
        )
        assert reason is None and handle is not None
        # Another program on the same bus sends the signal the service would send.
        subprocess.run(
            [
                TOOLS["dbus-send"],
                "--type=signal",
                "/org/freedesktop/Notifications",
                "org.freedesktop.Notifications.ActionInvoked",
                f"uint32:{handle['id']}",
                "string:fix-0",
            ],
            env=desk.env(),
            check=True,
        )
        # The listener is still there, waiting for the real one; nothing was started. Then the real one.
        desk.choose("Update with Software")
        wait_for(lambda: desk.starts(), "the software center to be started")
        assert len(desk.starts()) == 1


def test_the_listener_is_bounded_and_takes_its_buttons_away(desk: Desk):
    with clean(desk):
        request = {
            "title": "Bounded listener test",
            "body": "x",
            "actions": [{"key": "fix-0", "label": "Update with Software", "argv": ["gnome-software"]}],
            "seconds": 1.0,
        }
        reason, handle = listener.start(request, _self(), desk.env())
        assert reason is None and handle is not None
        wait_for(lambda: not _listeners(desk), "the listener to leave when its time is up")
        # The notification is still there, the same one, but without a button that would do nothing now:
        # the menu offers nothing to choose.
        assert desk.displayed() == 1
        desk.choose("Update with Software")
        menu = desk.folder / "menu.log"
        assert "Update with Software" not in (menu.read_text() if menu.exists() else "")
        assert desk.starts() == []
        desk.ctl("close-all")
        entry = next(entry for entry in desk.history() if entry["summary"] == "Bounded listener test")
        assert entry["id"] == handle["id"]


def test_withdrawing_takes_a_notice_back_only_from_the_service_that_showed_it(desk: Desk):
    with clean(desk):
        reason, handle = present(
            "Withdraw test",
            "x",
            actions=[{"key": "recheck", "label": "Check again", "argv": [*_self(), "--version"]}],
            command=_self(),
            platform="linux",
            env=desk.env(),
        )
        assert reason is None and handle is not None
        # A handle from another session's service (the same id, another unique name) is left alone.
        assert withdraw({**handle, "server": ":1.99999"}, env=desk.env()) is None
        assert desk.displayed() == 1
        assert withdraw(handle, env=desk.env()) is None
        wait_for(lambda: desk.displayed() == 0, "the notice to be taken back")
        wait_for(lambda: not _listeners(desk), "its listener to leave with it")


def _strict_rules(folder: Path, minimum: str) -> Path:
    os_id = next(
        line.split("=", 1)[1].strip().strip('"')
        for line in Path("/etc/os-release").read_text().splitlines()
        if line.startswith("ID=")
    )
    rules = folder / "rules.json"
    rules.write_text(
        json.dumps(
            {
                "schema": "clientcheck.rules/1",
                "publisher": "Test IT",
                "serial": 1,
                "published": "2026-11-01",
                "expires": "2099-12-31",
                "rules": [{"id": "os", "product": os_id, "minimum": minimum}],
            }
        )
    )
    return rules


def test_check_again_replaces_the_notice_and_takes_it_back_once_nothing_is_owed(desk: Desk, tmp_path: Path):
    # The whole story, with real login runs: one shows the notice; its "check again" runs the next, which
    # (still owed) replaces it; once the rules are met, "check again" takes the notice back.
    rules = _strict_rules(tmp_path, "999")
    env = desk.env(HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"), LANG="de_DE.UTF-8")
    env.pop("CLIENTCHECK_STATE_DIR", None)
    env["CLIENTCHECK_RULES_SOURCE"] = str(rules)  # what the recheck's run judges by too: a setting, not an argument
    state = tmp_path / "state" / "clientcheck"
    with clean(desk):
        first = subprocess.run(
            [*_self(), "login", "--force"], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert (first.returncode, first.stderr) == (1, "")
        assert desk.displayed() == 1
        shown = json.loads((state / "notice.json").read_text())
        wait_for(lambda: len(_listeners(desk)) == 1, "the first notice's listener")
        desk.choose("Erneut prüfen")  # "Check again", in German
        wait_for(
            lambda: json.loads((state / "notice.json").read_text())["id"] != shown["id"],
            "the second run to show its notice",
        )
        wait_for(lambda: desk.displayed() == 1, "one notice on screen: the second replaced the first")
        assert len(_listeners(desk)) == 1
        titles = [entry["summary"] for entry in desk.history()]
        assert titles.count("1 Update auf diesem Computer fällig") >= 1
        # The update is made (here: the rules are met), and the person checks again.
        _strict_rules(tmp_path, "1")
        desk.choose("Erneut prüfen")
        wait_for(lambda: not (state / "notice.json").exists(), "the third run to take the notice back")
        wait_for(lambda: desk.displayed() == 0, "no notice on screen")
        wait_for(lambda: not _listeners(desk), "no listener left")
        assert json.loads((state / "last.json").read_text())["summary"]["status"] == "ok"
