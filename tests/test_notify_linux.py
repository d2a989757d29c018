"""Linux notifications against the real thing: a private dbus-daemon session bus and the dunst
notification daemon on an Xvfb display, all started by these tests in a throw-away root
(tests/throwaway_root.py: the X server's compiled keymaps, whatever the daemons write under /var or /etc,
stay there). A notification counts as arrived when dunst has it (``dunstctl history``, JSON) and
dbus-monitor, which decodes messages with libdbus, shows the Notify call with the same arguments.

Needs root (for the throw-away root) and the Debian packages dbus-daemon, dbus-bin (dbus-monitor,
dbus-send), dunst (dunstctl; its dependencies bring busctl) and xvfb. Tests skip, saying which, when one of
those is missing (and fail under CI=true, where .ci/run installs them).

No test times the client: each wait it makes is bounded by its deadline, and the tests tell a deadline
that fired from an answer that came by the reason it gives (the peers here answer, or hang up, only well
after the client's deadline).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from clientcheck.notify import BODY_LIMIT, notify
from clientcheck.notify.dbus import send_notification
from conftest import make_throwaway_root, missing, needs_tool
from throwaway_root import ThrowawayRoot

TOOLS = {name: shutil.which(name) for name in ("dbus-daemon", "dbus-monitor", "dbus-send", "Xvfb", "dunst", "dunstctl")}
TOOLS["busctl"] = shutil.which("busctl")  # dunstctl history runs busctl
PACKAGES = {
    "dbus-daemon": "dbus-daemon",
    "dbus-monitor": "dbus-bin",
    "dbus-send": "dbus-bin",
    "Xvfb": "xvfb",
    "dunst": "dunst",
    "dunstctl": "dunst",
    "busctl": "systemd",
}


def require(*names: str) -> pytest.MarkDecorator:
    absent = [name for name in names if not TOOLS[name]]
    packages = sorted({PACKAGES[name] for name in absent})
    return pytest.mark.skipif(
        bool(absent), reason=f"{', '.join(absent)} not installed (apt-get install {' '.join(packages)})"
    )


needs_bus = require("dbus-daemon")
needs_desktop = require("dbus-daemon", "dbus-monitor", "dbus-send", "Xvfb", "dunst", "dunstctl", "busctl")

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>{listen}</listen>
  <auth>EXTERNAL</auth>
  {servicedir}
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class Bus:
    def __init__(self, process: subprocess.Popen, address: str) -> None:
        self.process = process
        self.address = address

    def env(self) -> dict[str, str]:
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}


@contextmanager
def session_bus(
    root: ThrowawayRoot, folder: Path, listen: str, *, servicedir: Path | None = None, user: str | None = None
):
    """A dbus-daemon of our own in the throw-away ``root``, with no service files unless ``servicedir`` (so
    nothing is activated behind the test's back), torn down at the end; run as ``user`` when given (its
    config file must then be in a folder that user can read)."""
    config = folder / f"bus-{time.monotonic_ns()}.conf"
    config.write_text(
        BUS_CONFIG.format(listen=listen, servicedir=f"<servicedir>{servicedir}</servicedir>" if servicedir else "")
    )
    config.chmod(0o644)
    argv = [TOOLS["dbus-daemon"], f"--config-file={config}", "--nofork", "--print-address=1"]
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    process = root.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        address = process.stdout.readline().strip()
        if not address:
            pytest.fail(f"dbus-daemon did not start: {process.stderr.read()}")
        yield Bus(process, address)
    finally:
        process.terminate()
        process.wait(timeout=10)


class Desktop:
    """Xvfb + a session bus + dunst: what a logged-in person's machine has, for these tests."""

    def __init__(self, folder: Path, bus: Bus, runtime_dir: Path, display: str) -> None:
        self.folder = folder
        self.bus = bus
        self.runtime_dir = runtime_dir
        self.display = display

    def tool_env(self) -> dict[str, str]:
        return {**os.environ, "DBUS_SESSION_BUS_ADDRESS": self.bus.address, "DISPLAY": self.display}

    def history(self) -> list[dict[str, object]]:
        """Every notification dunst has had, each as {field: value}: closing them moves them to history."""
        subprocess.run([TOOLS["dunstctl"], "close-all"], env=self.tool_env(), check=True, timeout=10)
        out = subprocess.run(
            [TOOLS["dunstctl"], "history"], env=self.tool_env(), check=True, timeout=10, capture_output=True
        ).stdout
        document = json.loads(out)
        assert document["type"] == "aa{sv}"
        return [{key: value["data"] for key, value in entry.items()} for entry in document["data"][0]]

    def received(self, summary: str) -> dict[str, object]:
        matches = [entry for entry in self.history() if entry["summary"] == summary]
        assert len(matches) == 1, f"dunst has {len(matches)} notifications titled {summary!r}"
        return matches[0]

    @contextmanager
    def monitor(self):
        """dbus-monitor, watching Notify calls; yields a function that waits for and returns its text."""
        log = self.folder / f"monitor-{time.monotonic_ns()}.log"
        with log.open("w") as stream:
            process = subprocess.Popen(
                [
                    TOOLS["dbus-monitor"],
                    "--address",
                    self.bus.address,
                    "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
                ],
                stdout=stream,
                stderr=subprocess.STDOUT,
            )
        try:
            # Ready once it has become a monitor: it reports losing its own name at that moment.
            wait_for(lambda: "NameLost" in log.read_text(), "dbus-monitor to start")

            def captured(expected: str) -> str:
                # The whole call: dbus-monitor's output reaches the file in blocks, so the text may stop in
                # the middle of the message; Notify's last argument (the expiry, an int32) ends it.
                def complete() -> bool:
                    text = log.read_text()
                    return expected in text and "int32 " in text[text.index(expected) :]

                wait_for(complete, f"dbus-monitor to show {expected!r} and the rest of its call")
                return log.read_text()

            yield captured
        finally:
            process.terminate()
            process.wait(timeout=10)


def wait_for(condition, what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def desktop(tmp_path_factory):
    for name in ("dbus-daemon", "dbus-monitor", "dbus-send", "Xvfb", "dunst", "dunstctl", "busctl"):
        if not TOOLS[name]:
            missing(f"{name} not installed (apt-get install {PACKAGES[name]})")
    root = make_throwaway_root(tmp_path_factory.mktemp("desktop-root"))
    try:
        yield from _desktop(root, tmp_path_factory.mktemp("desktop"))
    finally:
        root.stop()


def _desktop(root: ThrowawayRoot, folder: Path):
    runtime_dir = folder / "runtime"
    runtime_dir.mkdir(mode=0o700)
    # Xvfb picks a free display itself and writes its number to the pipe.
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
        # The bus socket is $XDG_RUNTIME_DIR/bus, where a systemd user session keeps it.
        with session_bus(root, folder, f"unix:path={runtime_dir / 'bus'}") as bus:
            config = folder / "dunstrc"
            config.write_text("[global]\n    markup = full\n    history_length = 200\n")
            result = Desktop(folder, bus, runtime_dir, f":{number}")
            dunst = root.popen(
                [TOOLS["dunst"], "-config", str(config)],
                env=result.tool_env(),
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
                    lambda: subprocess.run(ping, env=result.tool_env(), capture_output=True).returncode == 0,
                    "dunst to own org.freedesktop.Notifications",
                )
                yield result
            finally:
                dunst.terminate()
                dunst.wait(timeout=10)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


# --- a notification that arrives ----------------------------------------------------------------------


@needs_desktop
def test_notification_arrives_with_its_text(desktop):
    title = "Updates owed on this computer"
    body = "Firefox 140.0 is older than the required 158.0.\nUpdate it from Help > About Firefox."
    with desktop.monitor() as captured:
        reason = notify(title, body, platform="linux", env=desktop.bus.env())
        monitor_text = captured(title)
    assert reason is None  # dunst answered: not "no answer within 2.5 s"
    entry = desktop.received(title)
    # dunst reads markup: the ">" went over escaped, and dunst shows it as ">" again.
    assert entry["body"] == body.replace(">", "&gt;")
    assert entry["appname"] == "clientcheck"
    assert entry["icon_path"] == "" or "software-update" in str(entry["icon_path"])
    # libdbus decoded the same call, argument by argument.
    assert 'string "clientcheck"' in monitor_text
    assert 'string "software-update-available"' in monitor_text
    assert f'string "{title}"' in monitor_text
    assert 'string "urgency"\n         variant             byte 1' in monitor_text
    assert 'string "desktop-entry"\n         variant             string "clientcheck"' in monitor_text
    assert "int32 -1" in monitor_text


@needs_desktop
def test_critical_notification_has_urgency_2(desktop):
    title = "Firefox 128 ESR is out of support"
    with desktop.monitor() as captured:
        assert notify(title, "Install Firefox ESR 153.", critical=True, platform="linux", env=desktop.bus.env()) is None
        monitor_text = captured(title)
    assert 'string "urgency"\n         variant             byte 2' in monitor_text
    assert 'string "software-update-urgent"' in monitor_text
    assert desktop.received(title)["body"] == "Install Firefox ESR 153."


@needs_desktop
def test_german_and_japanese_text_arrive_intact(desktop):
    title = "Aktualisierungen fällig – Größe ß"  # noqa: RUF001 - the en dash is part of the test
    body = "Bitte aktualisieren Sie Firefox.\nブラウザを更新してください。Chromeのバージョンが古いです。"
    with desktop.monitor() as captured:
        assert notify(title, body, platform="linux", env=desktop.bus.env()) is None
        monitor_text = captured(title)
    entry = desktop.received(title)
    assert entry["summary"] == title
    assert entry["body"] == body
    assert "ブラウザを更新してください" in monitor_text


@needs_desktop
def test_report_link_arrives_as_a_hyperlink(desktop):
    # dunst advertises body-hyperlinks, so the report is a link with the person's label.
    title = "Report link test"
    url = "file:///home/ana/.cache/clientcheck/report%20today.html"
    label = "Bericht öffnen"
    assert (
        notify(title, "Update <Chrome> & Firefox", url=url, link_label=label, platform="linux", env=desktop.bus.env())
        is None
    )
    entry = desktop.received(title)
    assert entry["body"] == f'Update &lt;Chrome&gt; &amp; Firefox\n<a href="{url}">Bericht öffnen</a>'


@needs_desktop
def test_report_link_without_label_shows_the_path(desktop):
    title = "Report path test"
    url = "file:///tmp/clientcheck%20report.html"
    assert notify(title, "Updates owed", url=url, platform="linux", env=desktop.bus.env()) is None
    assert desktop.received(title)["body"] == f'Updates owed\n<a href="{url}">/tmp/clientcheck report.html</a>'


@needs_desktop
def test_very_long_body_arrives_shortened(desktop):
    title = "Long body test"
    body = "Chromium 120 needs an update. " * 4000  # 120,000 characters
    with desktop.monitor() as captured:
        assert notify(title, body, platform="linux", env=desktop.bus.env()) is None
        captured(title)
    received = desktop.received(title)["body"]
    assert BODY_LIMIT - 2 <= len(received) <= BODY_LIMIT  # cut at the limit, a trailing space dropped
    assert received.endswith("Chromium…")
    assert body.startswith(received[:-1])


@needs_desktop
def test_control_characters_and_nul_are_written_out(desktop):
    # D-Bus strings cannot hold NUL, and an ESC or a bidi override must not act on what the person reads:
    # the text arrives with them written out.
    title = "Control\0 characters\x07 test"
    assert notify(title, "a\0b\x1bc\r\nd\u202e", platform="linux", env=desktop.bus.env()) is None
    assert desktop.received("Control\\x00 characters\\x07 test")["body"] == "a\\x00b\\x1bc\ndU+202E"


@needs_desktop
def test_finds_the_bus_in_xdg_runtime_dir_without_an_address(desktop):
    # What a systemd user session provides even where DBUS_SESSION_BUS_ADDRESS is not exported.
    title = "Runtime dir fallback test"
    env = {"XDG_RUNTIME_DIR": str(desktop.runtime_dir)}
    assert notify(title, "via $XDG_RUNTIME_DIR/bus", platform="linux", env=env) is None
    assert desktop.received(title)["body"] == "via $XDG_RUNTIME_DIR/bus"


@needs_desktop
def test_tries_each_address_in_turn(desktop, tmp_path):
    title = "Second address test"
    address = f"tcp:host=localhost,port=1;unix:path={tmp_path / 'gone'};{desktop.bus.address}"
    assert notify(title, "second", platform="linux", env={"DBUS_SESSION_BUS_ADDRESS": address}) is None
    assert desktop.received(title)["body"] == "second"


@needs_desktop
def test_linux_path_starts_no_process(desktop, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a subprocess was started")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "posix_spawn", refuse)
    monkeypatch.setattr(os, "fork", refuse)
    assert notify("No subprocess test", "x", platform="linux", env=desktop.bus.env()) is None


@needs_desktop
def test_works_without_stdout_or_stderr(desktop, tmp_path):
    # pythonw, or a logon task with no console: sys.stdout and sys.stderr are None.
    out = tmp_path / "result"
    code = (
        "import sys; sys.stdout = sys.stderr = None\n"
        "from clientcheck.notify import notify\n"
        "import os\n"
        "result = notify('No console test', 'x', platform='linux', env=os.environ)\n"
        f"open({str(out)!r}, 'w').write(repr(result))\n"
    )
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": desktop.bus.address}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=30, capture_output=True)
    assert out.read_text() == "None"
    assert desktop.received("No console test")["body"] == "x"


def test_linux_path_stays_light(tmp_path):
    # No bus to connect to: neither jeepney nor socket.py (enums, selectors: 14 ms at import here) is
    # loaded; the connection is tried with the C module _socket.
    code = (
        "import sys\n"
        "from clientcheck.notify import notify\n"
        f"print(notify('t', 'b', platform='linux', env={{'DBUS_SESSION_BUS_ADDRESS': 'unix:path={tmp_path}/bus'}}))\n"
        "print(sorted({'socket', 'selectors', 'subprocess', 'jeepney'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [f"cannot connect to the session bus at {tmp_path}/bus: No such file or directory", "[]"]


# --- no notification, and a reason --------------------------------------------------------------------


def test_no_session_bus_at_all(monkeypatch):
    # Root at a console, a system service, a cron job: nothing to talk to, and nothing is even tried.
    def refuse(*args, **kwargs):
        raise AssertionError("a socket was made")

    monkeypatch.setattr("_socket.socket", refuse)
    assert notify("t", "b", platform="linux", env={}) == "no session bus (DBUS_SESSION_BUS_ADDRESS unset)"


def test_runtime_dir_without_a_bus(tmp_path):
    reason = notify("t", "b", platform="linux", env={"XDG_RUNTIME_DIR": str(tmp_path)})
    assert reason == f"no session bus (DBUS_SESSION_BUS_ADDRESS unset, no socket at {tmp_path / 'bus'})"


def test_address_to_a_missing_socket(tmp_path):
    reason = notify("t", "b", platform="linux", env={"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/bus"})
    assert reason == f"cannot connect to the session bus at {tmp_path}/bus: No such file or directory"


def test_address_to_a_dead_socket(tmp_path):
    # A bus that crashed leaves its socket file behind: nobody listens any more.
    path = tmp_path / "bus"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.close()
    reason = notify("t", "b", platform="linux", env={"DBUS_SESSION_BUS_ADDRESS": f"unix:path={path}"})
    assert reason == f"cannot connect to the session bus at {path}: Connection refused"


def test_address_with_no_unix_socket():
    reason = notify("t", "b", platform="linux", env={"DBUS_SESSION_BUS_ADDRESS": "tcp:host=localhost,port=4"})
    assert reason == (
        "session bus address 'tcp:host=localhost,port=4' has no unix:path= or unix:abstract= entry we can use"
    )


@needs_bus
def test_bus_without_a_notification_service(tmp_path, throwaway_root):
    # A real bus, over an abstract socket, where nothing owns org.freedesktop.Notifications: its answer
    # says so (the client does not wait out its deadline for one).
    with session_bus(throwaway_root, tmp_path, f"unix:abstract=/tmp/clientcheck-test-{os.getpid()}") as bus:
        assert "unix:abstract=" in bus.address
        reason = notify("t", "b", platform="linux", env=bus.env())
    assert reason is not None
    assert reason.startswith("no notification service on the session bus (org.freedesktop.DBus.Error.ServiceUnknown")


@needs_bus
def test_notification_service_that_never_starts(tmp_path, throwaway_root):
    # A service file whose program never takes the name: the bus waits for it, and answers with an error
    # only when the program (sleep 10) ends; we give up at our deadline, long before.
    services = tmp_path / "services"
    services.mkdir()
    (services / "org.freedesktop.Notifications.service").write_text(
        "[D-BUS Service]\nName=org.freedesktop.Notifications\nExec=/bin/sleep 10\n"
    )
    with session_bus(throwaway_root, tmp_path, f"unix:path={tmp_path / 'bus'}", servicedir=services) as bus:
        reason = send_notification("t", "b", url=None, location=None, env=bus.env(), timeout=0.5)
        assert reason == "no answer within 0.5 s while asking the notification service what it shows"
        # And through notify(), with its default deadline.
        reason = notify("t", "b", platform="linux", env=bus.env())
    assert reason == "no answer within 2.5 s while asking the notification service what it shows"


@needs_bus
@needs_tool("setpriv", "util-linux")
def test_another_users_bus(throwaway_root):
    # Root reaching for a user's bus (a login script run as root): the bus lets in only its owner.
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)  # noqa: S103 - the bus user must read its config; pytest's tmp is root-only
        listen = f"unix:abstract=/tmp/clientcheck-other-{os.getpid()}"
        with session_bus(throwaway_root, Path(folder), listen, user="65534") as bus:
            reason = notify("t", "b", platform="linux", env=bus.env())
    assert reason == (
        "the session bus closed the connection after authentication as uid 0: it admits only the user it belongs to"
    )


@contextmanager
def fake_bus(tmp_path: Path, answer):
    """A Unix socket that accepts one connection and gives it to ``answer`` (then closes it)."""
    path = tmp_path / "fake-bus"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    stop = threading.Event()

    def serve():
        connection, _ = listener.accept()
        with connection:
            answer(connection, stop)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield {"DBUS_SESSION_BUS_ADDRESS": f"unix:path={path}"}
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_peer_that_never_answers(tmp_path):
    # It hangs up after 10 s: a client that waited for that would say "closed the connection".
    with fake_bus(tmp_path, lambda connection, stop: stop.wait(10)) as env:
        reason = send_notification("t", "b", url=None, location=None, env=env, timeout=0.3)
    assert reason == "no answer within 0.3 s while authenticating to the session bus"


def test_one_deadline_bounds_every_wait(tmp_path):
    # A peer that trickles an endless answer a byte at a time, each byte well within the deadline, for 10 s,
    # then hangs up: a client that started its clock again at each read would still be reading then.
    def trickle(connection, stop):
        connection.recv(100)
        for byte in b"OK " + b"0123456789abcdef" * 12:
            if stop.wait(0.05):
                return
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                return  # the client has gone

    with fake_bus(tmp_path, trickle) as env:
        reason = send_notification("t", "b", url=None, location=None, env=env, timeout=0.3)
    assert reason == "no answer within 0.3 s while authenticating to the session bus"


def test_bus_that_rejects_our_authentication(tmp_path):
    def reject(connection, stop):
        connection.recv(100)
        connection.sendall(b"REJECTED DBUS_COOKIE_SHA1\r\n")
        stop.wait(5)

    with fake_bus(tmp_path, reject) as env:
        reason = notify("t", "b", platform="linux", env=env)
    assert reason == f"the session bus refused authentication as uid {os.geteuid()} (REJECTED DBUS_COOKIE_SHA1)"


def test_peer_that_is_not_dbus(tmp_path):
    def garbage(connection, stop):
        connection.recv(100)
        connection.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")
        connection.recv(1000)
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        stop.wait(5)

    with fake_bus(tmp_path, garbage) as env:
        reason = notify("t", "b", platform="linux", env=env)
    assert reason == "the session bus sent something that is not D-Bus (not a D-Bus message (byte order b'H'))"


def test_peer_that_closes_at_once(tmp_path):
    with fake_bus(tmp_path, lambda connection, stop: None) as env:
        reason = notify("t", "b", platform="linux", env=env)
    assert reason == "the session bus closed the connection while authenticating to the session bus"


def accept_authentication(connection) -> bytes:
    """The bus's side of SASL EXTERNAL: read the AUTH line, say OK, wait for BEGIN (a bus sends nothing
    more before it); returns what came after BEGIN."""
    received = b""
    while b"\r\n" not in received:
        received += connection.recv(1000)
    connection.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")
    received = received.partition(b"\r\n")[2]
    while len(received) < len(b"BEGIN\r\n"):
        received += connection.recv(65536)
    assert received.startswith(b"BEGIN\r\n")
    return received.removeprefix(b"BEGIN\r\n")


def test_peer_that_authenticates_and_then_never_answers(tmp_path):
    # jeepney's blocking connection would wait for the Hello reply for ever; our deadline covers it. The peer
    # hangs up after 10 s: a client that waited for that would say "closed the connection".
    def silent_after_ok(connection, stop):
        accept_authentication(connection)
        stop.wait(10)

    with fake_bus(tmp_path, silent_after_ok) as env:
        reason = send_notification("t", "b", url=None, location=None, env=env, timeout=0.3)
    assert reason == "no answer within 0.3 s while authenticating to the session bus"


def pad_to(data: bytes, alignment: int) -> bytes:
    return data + bytes(-len(data) % alignment)


def big_endian_return(serial: int, reply_serial: int, signature: bytes, body: bytes) -> bytes:
    """A METHOD_RETURN as a big-endian machine (s390x) sends it, laid out by hand from the specification."""
    fields = b"\x05\x01u\x00" + struct.pack(">I", reply_serial)  # REPLY_SERIAL at 16..24
    fields += b"\x08\x01g\x00" + bytes((len(signature),)) + signature + b"\x00"  # SIGNATURE at 24
    fixed = b"B\x02\x00\x01" + struct.pack(">II", len(body), serial) + struct.pack(">I", len(fields))
    return pad_to(fixed + fields, 8) + body


def test_reads_a_big_endian_bus(tmp_path):
    # Every reply big-endian: Hello's unique name, the capabilities (an array of strings, with the padding
    # between its elements), the notification's id. The Notify call we then send carries the link.
    from jeepney.low_level import HeaderFields, Parser

    calls = []

    def big_endian_bus(connection, stop):
        parser = Parser()
        parser.add_data(accept_authentication(connection))
        answers = {
            "Hello": (b"s", struct.pack(">I", 4) + b":1.7\x00"),
            # "body" at 4..13, padding to 16, "body-hyperlinks" at 16..36: 32 bytes of elements.
            "GetCapabilities": (
                b"as",
                struct.pack(">I", 32)
                + struct.pack(">I", 4)
                + b"body\x00"
                + bytes(3)
                + struct.pack(">I", 15)
                + b"body-hyperlinks\x00",
            ),
            "Notify": (b"u", struct.pack(">I", 41)),
        }
        serial = 100
        while len(calls) < 3 and not stop.is_set():
            message = parser.get_next_message()
            if message is None:
                parser.add_data(connection.recv(65536))
                continue
            calls.append(message)
            serial += 1
            signature, body = answers[message.header.fields[HeaderFields.member]]
            connection.sendall(big_endian_return(serial, message.header.serial, signature, body))

    url = "file:///home/ana/report.html"
    with fake_bus(tmp_path, big_endian_bus) as env:
        reason = send_notification("t", "Updates & more", url=url, location="/home/ana/report.html", env=env)
    assert reason is None
    assert [call.header.fields[HeaderFields.member] for call in calls] == ["Hello", "GetCapabilities", "Notify"]
    assert calls[2].body[4] == f'Updates &amp; more\n<a href="{url}">/home/ana/report.html</a>'


def test_reply_too_large_to_be_ours(tmp_path):
    def huge(connection, stop):
        accept_authentication(connection)
        # A METHOD_RETURN header announcing a 2 MiB body, and no more.
        connection.sendall(b"l\x02\x00\x01" + struct.pack("<III", 2 * 1024 * 1024, 1, 0))
        stop.wait(5)

    with fake_bus(tmp_path, huge) as env:
        reason = notify("t", "b", platform="linux", env=env)
    assert reason == "the session bus sent a 2097168-byte message; replies are small"


def test_malformed_reply(tmp_path):
    def broken(connection, stop):
        accept_authentication(connection)
        # A reply to Hello whose string is not UTF-8 (ff fe), correctly framed otherwise.
        fields = b"\x05\x01u\x00" + struct.pack("<I", 1) + b"\x08\x01g\x00\x01s\x00"
        body = struct.pack("<I", 2) + b"\xff\xfe\x00"
        fixed = b"l\x02\x00\x01" + struct.pack("<III", len(body), 1, len(fields))
        connection.sendall(pad_to(fixed + fields, 8) + body)
        stop.wait(5)

    with fake_bus(tmp_path, broken) as env:
        reason = notify("t", "b", platform="linux", env=env)
    assert reason is not None
    assert reason.startswith("the session bus sent a malformed message (UnicodeDecodeError: ")


# --- the whole login run, as the autostart entry starts it ----------------------------------------------


@needs_desktop
def test_login_run_shows_one_notice_in_the_persons_language(desktop, tmp_path):
    # This machine, judged by a rule file whose OS minimum no release meets: `clientcheck login` run as a
    # process, as the autostart entry runs it, with a German locale and the test's session bus.
    os_id = next(
        line.split("=", 1)[1].strip().strip('"')
        for line in Path("/etc/os-release").read_text().splitlines()
        if line.startswith("ID=")
    )
    rules = tmp_path / "strict.json"
    rules.write_text(
        json.dumps(
            {
                "schema": "clientcheck.rules/1",
                "publisher": "Test IT",
                "serial": 1,
                "published": "2026-11-01",
                "expires": "2099-12-31",
                "rules": [
                    {
                        "id": "os",
                        "product": os_id,
                        "minimum": "999",
                        "message": {"en": "Upgrade the system", "de": "Aktualisieren Sie das System"},
                    }
                ],
            }
        )
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "LANG": "de_DE.UTF-8",
        "DBUS_SESSION_BUS_ADDRESS": desktop.bus.address,
    }
    done = subprocess.run(
        [sys.executable, "-m", "clientcheck", "login", "--force", "--rules", str(rules)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "")
    entry = desktop.received("1 Update auf diesem Computer fällig")
    report = tmp_path / "state" / "clientcheck" / "last.html"
    assert str(entry["body"]).startswith("• Aktualisieren Sie das System (")
    assert "auf 999 aktualisieren" in str(entry["body"])
    assert f'<a href="file://{report}">Vollständigen Bericht öffnen</a>' in str(entry["body"])
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # All is well the second time (the rules are met): no second notice.
    rules.write_text(rules.read_text().replace('"minimum": "999"', '"minimum": "1"'))
    again = subprocess.run(
        [sys.executable, "-m", "clientcheck", "login", "--force", "--rules", str(rules)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (again.returncode, again.stderr) == (0, "")
    assert [e for e in desktop.history() if e["summary"] == "1 Update auf diesem Computer fällig"] == [entry]
