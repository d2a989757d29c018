"""Linux: the small process that stays with a notification that has buttons.

A button of a freedesktop notification is a signal (``ActionInvoked``) the notification service sends when it
is chosen; someone has to be listening for it, and the login run must not wait: it ends as soon as the person
has been told. So the login run starts this process, detached, with the notification on its standard input
(JSON). It connects to the session bus, subscribes to the service's signals, withdraws the notice an earlier
run left (if that same service still shows it), shows the notification, answers the login run with one line
(the notification's id and the service's unique name, or why it could not be shown), and then waits:

- a button chosen: its action runs, as a fixed program and arguments chosen by product and OS from the
  catalog (a software center, a browser with its own update page), a URI opened with ``xdg-open`` (a
  vendor's page, the report), or ``clientcheck login --force`` (check again). Never a command line built
  from data, never through a shell; a signal counts only when the service sent it;
- the notification closed (dismissed, expired, or withdrawn by a later run): it leaves;
- ``LISTEN_SECONDS`` gone by: it replaces the notification by the same one without buttons (which would no
  longer do anything) and leaves.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from clientcheck.notify.dbus import _Connection

COMMAND = "notice-listener"  # the hidden command of clientcheck's command line that runs ``main``
LISTEN_SECONDS = 600.0  # how long a notification's buttons work: a person acts on a notice soon, or not
START_SECONDS = 10.0  # for the listener to start (a cold interpreter at a busy login) and show the notice
REQUEST_LIMIT = 256 * 1024
_OPENERS = (("xdg-open",), ("gio", "open"))  # what opens a URI in the person's chosen application


def start(request: dict[str, Any], command: Sequence[str], env: Mapping[str, str]) -> tuple[str | None, Any]:
    """Start the listener (``command`` runs clientcheck: the same one as this run), hand it the
    notification, and wait for it to say whether it is shown: (None, its handle) or (why not, None).

    It is detached (a session of its own, no terminal, no inherited descriptors): it outlives this run."""
    import subprocess

    from clientcheck.cjson import dumps_compact, loads

    try:
        process = subprocess.Popen(
            [*command, COMMAND],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(env),
            close_fds=True,
            start_new_session=True,
        )
    except OSError as error:
        return f"the notification's listener could not start: {error.strerror or error}", None
    assert process.stdin is not None and process.stdout is not None  # noqa: S101 - both are pipes
    try:
        process.stdin.write(dumps_compact(request).encode("utf-8"))
        process.stdin.close()
    except OSError:
        pass  # it ended at once: what it said (or nothing) is read below
    line = _first_line(process.stdout.fileno(), START_SECONDS)
    process.stdout.close()
    if line is None:
        if process.poll() is not None:
            return f"the notification's listener ended without an answer (exit status {process.returncode})", None
        return f"the notification's listener did not answer within {START_SECONDS:g} s", None
    try:
        answer = loads(line)
    except ValueError:
        return "the notification's listener answered something that is not JSON", None
    if isinstance(answer, dict) and isinstance(answer.get("shown"), dict):
        return None, answer["shown"]
    if isinstance(answer, dict) and isinstance(answer.get("failed"), str):
        return answer["failed"], None
    return "the notification's listener answered something unexpected", None


def _first_line(descriptor: int, seconds: float) -> str | None:
    import select

    deadline = time.monotonic() + seconds
    data = b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([descriptor], [], [], remaining)
        if not ready:
            return None
        chunk = os.read(descriptor, 65536)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].decode("utf-8", "replace") if data else None


# --- The listener itself --------------------------------------------------------------------------------


class Request:
    """The notification to show and what its buttons do, as the login run sent it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.title = str(document["title"])
        self.body = str(document["body"])
        self.url = _text(document.get("url"))
        self.location = _text(document.get("location"))
        self.link_label = _text(document.get("link_label"))
        self.critical = bool(document.get("critical"))
        self.previous = document.get("previous") if isinstance(document.get("previous"), dict) else None
        self.seconds = float(document.get("seconds", LISTEN_SECONDS))
        self.actions: dict[str, tuple[str, str | None, tuple[str, ...] | None]] = {}
        for action in document.get("actions", []):
            argv = action.get("argv")
            self.actions[str(action["key"])] = (
                str(action["label"]),
                _text(action.get("uri")),
                tuple(str(part) for part in argv) if isinstance(argv, list) and argv else None,
            )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def listen(request: Request, env: Mapping[str, str], answer: Callable[[dict[str, Any]], None]) -> str | None:
    """Show the notification, ``answer`` the login run, then act on its buttons until it is gone or the
    time is up. Returns why it stopped early (for the tests; nobody else hears it)."""
    from clientcheck.notify import dbus

    shown: list[bool] = []

    def work(connection: _Connection, step: Callable[[str], None]) -> str | None:
        step("asking the notification service what it shows")
        caps = dbus._capabilities(connection)
        step("asking which notification service runs")
        server = dbus.notification_server(connection)
        if server is None:
            return "no notification service on the session bus"
        previous = request.previous
        if previous and previous.get("server") == server and isinstance(previous.get("id"), int):
            step("withdrawing the earlier notification")
            connection.call(dbus.close_call(previous["id"]))  # an error here only means it had gone
        step("subscribing to the notification service's signals")
        connection.call(dbus.add_match_call(dbus.SIGNALS_RULE))
        buttons = [(key, label) for key, (label, _uri, _argv) in request.actions.items()] if "actions" in caps else []
        if buttons and request.url and "default" not in request.actions:
            buttons.insert(0, ("default", request.link_label or request.location or request.url))
        body = dbus.compose_body(request.body, request.url, request.location, request.link_label, caps)
        step("sending the notification")
        reply = connection.call(dbus.notify_call(request.title, body, critical=request.critical, actions=buttons))
        if dbus._is_error(reply):
            return f"notification service refused: {dbus.error_text(reply)}"
        notification_id = reply.body[0] if reply.body and isinstance(reply.body[0], int) else 0
        answer({"shown": {"platform": "linux", "id": notification_id, "server": server}})
        shown.append(True)
        if not buttons:
            return None
        step("waiting for a button")
        connection.deadline = time.monotonic() + request.seconds
        try:
            _wait(connection, server, notification_id, request, env)
        except TimeoutError:
            # The buttons would do nothing once we are gone: the same notification, without them.
            connection.deadline = time.monotonic() + dbus.DEFAULT_TIMEOUT
            step("taking the buttons off the notification")
            connection.call(
                dbus.notify_call(request.title, body, critical=request.critical, replaces_id=notification_id)
            )
        return None

    reason = dbus.with_bus(env, START_SECONDS, work)
    if reason is not None and not shown:
        answer({"failed": reason})
    return reason


def _wait(connection: _Connection, server: str, notification_id: int, request: Request, env: Mapping[str, str]) -> None:
    from jeepney.low_level import HeaderFields, MessageType

    from clientcheck.notify.dbus import NOTIFICATIONS

    while True:
        message = connection.read_message()
        fields = message.header.fields
        if (
            message.header.message_type != MessageType.signal
            or fields.get(HeaderFields.sender) != server  # only the service itself says what was chosen
            or fields.get(HeaderFields.interface) != NOTIFICATIONS
            or not message.body
            or message.body[0] != notification_id
        ):
            continue
        member = fields.get(HeaderFields.member)
        if member == "NotificationClosed":
            return
        if member == "ActionInvoked" and len(message.body) > 1:
            act(str(message.body[1]), request, env)


def act(key: str, request: Request, env: Mapping[str, str], spawn: Callable[[list[str]], None] | None = None) -> bool:
    """Do what the button ``key`` stands for: start its program, or open its URI (``default``: the
    report). False when there is nothing to do (an unknown key, a program not installed)."""
    spawn = spawn or (lambda argv: _spawn(argv, env))
    if key == "default" and key not in request.actions:
        uri, argv = request.url, None
    elif key in request.actions:
        _label, uri, argv = request.actions[key]
    else:
        return False
    if argv:
        program = _program(argv[0], env)
        if program is None:
            return False
        spawn([program, *argv[1:]])
        return True
    if uri:
        for opener in _OPENERS:
            program = _program(opener[0], env)
            if program is not None:
                spawn([program, *opener[1:], uri])
                return True
    return False


def _program(name: str, env: Mapping[str, str]) -> str | None:
    """An absolute path as it is (if it is a program); a bare name found on the session's PATH."""
    import shutil

    if os.path.isabs(name):
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    return shutil.which(name, path=env.get("PATH") or os.defpath)


def _spawn(argv: list[str], env: Mapping[str, str]) -> None:
    """Start ``argv`` on its own, as a desktop launcher would: no shell, a session of its own, nothing
    inherited but the environment. The listener goes on at once; a thread of its own waits for the
    program, so that one that ends (xdg-open hands the URI over and leaves) is not left a zombie for the
    rest of the listener's ten minutes."""
    import subprocess
    import threading

    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(env),
            close_fds=True,
            start_new_session=True,
        )
    except OSError:
        return  # nothing to tell anyone: the person sees nothing happen, as with any launcher
    threading.Thread(target=process.wait, name=f"reap {process.pid}", daemon=True).start()


def main(env: Mapping[str, str]) -> int:
    """``clientcheck notice-listener``: the request on stdin, the answer on stdout (then closed)."""
    from clientcheck.cjson import dumps_compact, loads

    try:
        document = loads(sys.stdin.buffer.read(REQUEST_LIMIT).decode("utf-8"))
        request = Request(document)
    except (ValueError, KeyError, TypeError, AttributeError, OSError) as error:
        _answer({"failed": f"the notification's listener was given no notification ({type(error).__name__})"})
        return 2
    sys.stdin.close()

    def answer(message: dict[str, Any]) -> None:
        _answer(message, dumps_compact)

    listen(request, env, answer)
    return 0


def _answer(message: dict[str, Any], dumps: Callable[[Any], str] | None = None) -> None:
    """One line to the login run, then standard output closed: it stops waiting at once."""
    from clientcheck.cjson import dumps_compact

    write = dumps or dumps_compact
    try:
        stream = sys.stdout
        if stream is not None:
            stream.write(write(message) + "\n")
            stream.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except (OSError, ValueError):
        pass
