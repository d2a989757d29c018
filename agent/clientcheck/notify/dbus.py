"""Linux and other free desktops: ``org.freedesktop.Notifications.Notify`` on the session D-Bus.

jeepney (pure Python, no dependencies of its own) writes and reads the messages and runs the SASL EXTERNAL
exchange. What stays here is what a login needs and jeepney's blocking connection does not give: finding
the bus the way libdbus does (every address in turn, then ``$XDG_RUNTIME_DIR/bus``), one deadline over
every step from connect to the Notify reply (``jeepney.io.blocking`` waits for the ``Hello`` reply without
a limit), a cap on what a reply may be, and a one-line reason for every failure. jeepney is imported only
once a bus socket is connected: a session without a bus costs no import.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _socket import socket
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from jeepney.low_level import Message

NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
BUS = "org.freedesktop.DBus"
BUS_PATH = "/org/freedesktop/DBus"
NOTIFY_SIGNATURE = "susssasa{sv}i"
APP_NAME = "clientcheck"
DESKTOP_ENTRY = "clientcheck"  # the desktop file's name without ".desktop": servers take the app's icon from it
URGENCY_NORMAL, URGENCY_CRITICAL = 1, 2
DEFAULT_TIMEOUT = 2.5  # seconds, for everything from connect to the Notify reply
MAX_REPLY_BYTES = 1024 * 1024  # what we accept to read: our replies are a few hundred bytes
_NO_SUCH_METHOD = ("org.freedesktop.DBus.Error.UnknownMethod", "org.freedesktop.DBus.Error.NotSupported")


# --- Bus addresses ------------------------------------------------------------------------------------
# Ours, not jeepney.bus: that one turns %XX into a character, not a byte (a non-ASCII path is then not
# found), stops at an entry it cannot read instead of trying the next, and has no $XDG_RUNTIME_DIR/bus.


def _unescape(value: str) -> bytes:
    """An address value's bytes: ``%XX`` is one byte, anything else stands for itself."""
    out = bytearray()
    index = 0
    while index < len(value):
        if value[index] == "%":
            pair = value[index + 1 : index + 3]
            if len(pair) != 2 or any(digit not in "0123456789abcdefABCDEF" for digit in pair):
                raise ValueError(f"bad escape {value[index : index + 3]!r}")
            out.append(int(pair, 16))
            index += 3
        else:
            out += value[index].encode("utf-8", "surrogateescape")
            index += 1
    return bytes(out)


def parse_address(text: str) -> list[tuple[str, dict[str, bytes]]]:
    """``unix:path=/run/user/1000/bus,guid=…;tcp:…`` -> [(transport, {key: value bytes}), …].

    Entries that cannot be parsed are dropped: the caller says so when nothing usable is left.
    """
    entries = []
    for entry in text.split(";"):
        transport, colon, rest = entry.partition(":")
        if not colon or not transport:
            continue
        params: dict[str, bytes] | None = {}
        for pair in rest.split(",") if rest else ():
            key, equals, value = pair.partition("=")
            try:
                if params is not None and key and equals:
                    params[key] = _unescape(value)
                else:
                    params = None
            except ValueError:
                params = None
        if params is None:
            continue
        entries.append((transport, params))
    return entries


def _bus_sockets(env: Mapping[str, str]) -> tuple[list[tuple[str, bytes]], str]:
    """The session bus sockets to try, as (name for messages, AF_UNIX address), and the reason to give
    when there are none."""
    address = env.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not address:
        # What libdbus and sd-bus do without an address: the systemd user bus, when the session has one.
        runtime = env.get("XDG_RUNTIME_DIR", "")
        if runtime:
            fallback = os.path.join(runtime, "bus")
            try:
                is_socket = (os.stat(fallback).st_mode & 0o170000) == 0o140000  # S_ISSOCK, without importing stat
            except OSError:
                is_socket = False
            if is_socket:
                return [(fallback, os.fsencode(fallback))], ""
            return [], f"no session bus (DBUS_SESSION_BUS_ADDRESS unset, no socket at {fallback})"
        return [], "no session bus (DBUS_SESSION_BUS_ADDRESS unset)"
    sockets: list[tuple[str, bytes]] = []
    others = []
    for transport, params in parse_address(address):
        if transport == "unix" and "path" in params:
            path = params["path"]
            sockets.append((os.fsdecode(path), path))
        elif transport == "unix" and "abstract" in params:
            name = params["abstract"]
            sockets.append(("@" + os.fsdecode(name), b"\0" + name))  # Linux's abstract socket namespace
        else:
            others.append(transport)
    if sockets:
        return sockets, ""
    if others:
        return [], f"session bus address {address!r} has no unix:path= or unix:abstract= entry we can use"
    return [], f"session bus address {address!r} cannot be read"


# --- The messages -------------------------------------------------------------------------------------


def _method_call(
    path: str, destination: str, interface: str, member: str, signature: str | None = None, body: tuple[Any, ...] = ()
) -> Message:
    from jeepney.wrappers import DBusAddress, new_method_call

    message: Message = new_method_call(
        DBusAddress(path, bus_name=destination, interface=interface), member, signature, body
    )
    return message


def hello_call() -> Message:
    """``org.freedesktop.DBus.Hello``: the first call on every connection, without which the bus answers
    nothing else."""
    return _method_call(BUS_PATH, BUS, BUS, "Hello")


def capabilities_call() -> Message:
    return _method_call(NOTIFICATIONS_PATH, NOTIFICATIONS, NOTIFICATIONS, "GetCapabilities")


def notify_call(
    title: str,
    body: str,
    *,
    critical: bool,
    actions: Sequence[tuple[str, str]] = (),
    replaces_id: int = 0,
) -> Message:
    """The ``Notify`` call: the body as ``compose_body`` made it for this server; ``actions`` its buttons,
    (key, label) pairs, for a process that stays to hear which is chosen (``notify.listener``): the login
    run itself sends none, since nobody would be listening once it has exited."""
    hints = {
        "urgency": ("y", URGENCY_CRITICAL if critical else URGENCY_NORMAL),  # a variant is (signature, value)
        "desktop-entry": ("s", DESKTOP_ENTRY),
    }
    icon = "software-update-urgent" if critical else "software-update-available"  # freedesktop icon names
    flat = [text for pair in actions for text in pair]  # the spec's list: key, label, key, label, …
    server_default_timeout = -1
    arguments = (APP_NAME, replaces_id, icon, title, body, flat, hints, server_default_timeout)
    return _method_call(NOTIFICATIONS_PATH, NOTIFICATIONS, NOTIFICATIONS, "Notify", NOTIFY_SIGNATURE, arguments)


def close_call(notification_id: int) -> Message:
    return _method_call(NOTIFICATIONS_PATH, NOTIFICATIONS, NOTIFICATIONS, "CloseNotification", "u", (notification_id,))


def name_owner_call(name: str) -> Message:
    """``GetNameOwner``: the unique name (``:1.42``) of the connection that owns ``name``. Unique names are
    never reused while the bus runs, so it tells one notification server from the next."""
    return _method_call(BUS_PATH, BUS, BUS, "GetNameOwner", "s", (name,))


def add_match_call(rule: str) -> Message:
    return _method_call(BUS_PATH, BUS, BUS, "AddMatch", "s", (rule,))


# The signals a notification's owner hears: a button chosen, the notification gone.
SIGNALS_RULE = f"type='signal',interface='{NOTIFICATIONS}',path='{NOTIFICATIONS_PATH}'"


def _markup_escape(text: str, *, quote: bool = False) -> str:
    """Text safe inside the notification markup (a small XML subset: <b>, <i>, <a href>, entities)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("'", "&apos;") if quote else text


def compose_body(body: str, url: str | None, location: str | None, link_label: str | None, caps: set[str]) -> str:
    """The body as this server shows it: the report as a link where the server makes links, else its path
    as text. Markup characters are escaped when the server reads markup (an ``&`` would otherwise vanish
    or break the whole body)."""
    markup = "body-markup" in caps or "body-hyperlinks" in caps
    text = _markup_escape(body) if markup else body
    if url is None or location is None:
        return text
    if "body-hyperlinks" in caps:
        link = f'<a href="{_markup_escape(url, quote=True)}">{_markup_escape(link_label or location)}</a>'
    else:
        link = _markup_escape(location) if markup else location
    return f"{text}\n{link}" if text else link


# --- The connection -----------------------------------------------------------------------------------


class _Failure(Exception):  # noqa: N818 - not a bug: the one-line reason notify returns
    pass


class _Closed(Exception):  # noqa: N818 - the peer hung up: the caller says at which step
    pass


class _Connection:
    """One bus connection over a connected socket; every wait is bounded by the one ``deadline``."""

    __slots__ = ("buffer", "deadline", "serial", "sock", "unique_name")

    def __init__(self, sock: socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.buffer = bytearray()
        self.serial = 0
        self.unique_name = ""

    def _remaining(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    def send(self, data: bytes) -> None:
        self.sock.settimeout(self._remaining())
        self.sock.sendall(data)

    def _receive(self) -> bytes:
        self.sock.settimeout(self._remaining())
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Closed
        return chunk

    def authenticate(self) -> None:
        """SASL EXTERNAL (the bus reads our uid from the socket), then ``Hello``, sent with ``BEGIN``."""
        from jeepney.auth import AuthenticationError, Authenticator

        if sys.platform == "win32":  # for the type checker: send_notification never gets here on Windows
            raise _Failure("no D-Bus session bus on Windows")
        uid = os.geteuid()
        exchange = Authenticator()  # a NUL first (where other systems pass credentials), then AUTH EXTERNAL
        try:
            for line in exchange:
                self.send(line)
                exchange.feed(self._receive())
        except AuthenticationError as refused:
            answer = bytes(refused.data).decode("ascii", "replace")
            if answer.startswith("REJECTED"):
                raise _Failure(f"the session bus refused authentication as uid {uid} ({answer})") from None
            raise _Failure(f"the session bus answered {answer[:60]!r} to authentication") from None
        self.serial += 1
        self.send(b"BEGIN\r\n" + hello_call().serialise(serial=self.serial))
        try:
            reply = self.reply_to(self.serial)
        except _Closed:
            # libdbus authenticates anyone, then lets in only the bus owner (root reaching for a user's bus).
            raise _Failure(
                f"the session bus closed the connection after authentication as uid {uid}: "
                "it admits only the user it belongs to"
            ) from None
        if _is_error(reply):
            raise _Failure(f"the session bus refused Hello: {error_text(reply)}")
        if reply.body and isinstance(reply.body[0], str):
            self.unique_name = reply.body[0]

    def read_message(self) -> Message:
        """The next whole message, read to its announced length (at most ``MAX_REPLY_BYTES``)."""
        from jeepney.low_level import Message, calc_msg_size

        while len(self.buffer) < 16:
            self.buffer += self._receive()
        order = bytes(self.buffer[:1])
        if order not in (b"l", b"B"):
            raise _Failure(
                f"the session bus sent something that is not D-Bus (not a D-Bus message (byte order {order!r}))"
            )
        size = int(calc_msg_size(bytes(self.buffer[:16])))
        if size > MAX_REPLY_BYTES:
            raise _Failure(f"the session bus sent a {size}-byte message; replies are small")
        while len(self.buffer) < size:
            self.buffer += self._receive()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        try:
            message: Message = Message.from_buffer(data)
        except Exception as error:  # jeepney's reader raises many kinds of error on malformed bytes
            raise _Failure(f"the session bus sent a malformed message ({type(error).__name__}: {error})") from None
        return message

    def reply_to(self, serial: int) -> Message:
        """The method return or error answering ``serial``; signals (NameAcquired) are passed over."""
        from jeepney.low_level import HeaderFields, MessageType

        while True:
            message = self.read_message()
            if message.header.message_type in (MessageType.method_return, MessageType.error) and (
                message.header.fields.get(HeaderFields.reply_serial) == serial
            ):
                return message

    def call(self, message: Message) -> Message:
        """Send a method call and wait for its answer."""
        self.serial += 1
        self.send(message.serialise(serial=self.serial))
        return self.reply_to(self.serial)


def _is_error(message: Message) -> bool:
    from jeepney.low_level import MessageType

    return bool(message.header.message_type == MessageType.error)


def _error_name(message: Message) -> str:
    from jeepney.low_level import HeaderFields

    return str(message.header.fields.get(HeaderFields.error_name, ""))


def error_text(message: Message) -> str:
    """An error reply as one line: its name, and its message when it carries one."""
    name = _error_name(message) or "an unnamed error"
    detail = message.body[0] if message.body and isinstance(message.body[0], str) else ""
    return f"{name}: {detail}" if detail else name


# --- Showing a notification ---------------------------------------------------------------------------


def with_bus(
    env: Mapping[str, str], timeout: float, work: Callable[[_Connection, Callable[[str], None]], str | None]
) -> str | None:
    """Connect to the session bus (each address in turn), authenticate, and run ``work`` on the
    connection, all within ``timeout`` seconds unless ``work`` moves the connection's deadline; ``work``
    names each step it takes (for the reason it fails with) and returns None when done, else why not. Any
    failure becomes one line."""
    if sys.platform == "win32":
        return "no D-Bus session bus on Windows"
    sockets, reason = _bus_sockets(env)
    if not sockets:
        return reason
    # The C module: a socket that is not there costs no import of ``socket`` (enums, selectors); jeepney,
    # imported once connected, brings it.
    import _socket

    deadline = time.monotonic() + timeout
    problems = []
    stage = [""]  # the step under way, as work() names it
    for name, address in sockets:
        stage[0] = f"connecting to the session bus at {name}"
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                sock.connect(address)
            except OSError as error:
                problems.append(f"cannot connect to the session bus at {name}: {error.strerror or error}")
                continue
            connection = _Connection(sock, deadline)
            stage[0] = "authenticating to the session bus"
            connection.authenticate()
            return work(connection, lambda step: stage.__setitem__(0, step))
        except _Failure as failure:
            return str(failure)
        except (_Closed, BrokenPipeError, ConnectionResetError):
            return f"the session bus closed the connection while {stage[0]}"
        except TimeoutError:
            return f"no answer within {timeout:g} s while {stage[0]}"
        except OSError as error:
            return f"{stage[0]} failed: {error.strerror or error}"
        finally:
            sock.close()
    return "; ".join(problems)


def send_notification(
    title: str,
    body: str,
    *,
    url: str | None,
    location: str | None,
    link_label: str | None = None,
    critical: bool = False,
    env: Mapping[str, str],
    timeout: float = DEFAULT_TIMEOUT,
) -> str | None:
    """Show one notification; None when the server accepted it, else why not (one line)."""

    def work(connection: _Connection, step: Callable[[str], None]) -> str | None:
        step("asking the notification service what it shows")
        caps = _capabilities(connection)
        step("sending the notification")
        reply = connection.call(
            notify_call(title, compose_body(body, url, location, link_label, caps), critical=critical)
        )
        return f"notification service refused: {error_text(reply)}" if _is_error(reply) else None

    return with_bus(env, timeout, work)


def notification_server(connection: _Connection) -> str | None:
    """The unique name of the notification service's connection, None when there is none."""
    reply = connection.call(name_owner_call(NOTIFICATIONS))
    if _is_error(reply) or not reply.body or not isinstance(reply.body[0], str):
        return None
    return reply.body[0]


def close_notification(
    notification_id: int, server: str, env: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT
) -> str | None:
    """Withdraw notification ``notification_id``, shown earlier by the service that was then ``server``
    (its unique name): only if that very service still runs. A notification id means nothing to the next
    one (after a new login, the same number is someone else's notification). None when closed (or when
    there was nothing of ours to close), else why not."""

    def work(connection: _Connection, step: Callable[[str], None]) -> str | None:
        step("asking which notification service runs")
        if notification_server(connection) != server:
            return None  # another service, or none: ours is gone with the one that showed it
        step("withdrawing the notification")
        reply = connection.call(close_call(notification_id))
        return f"notification service refused: {error_text(reply)}" if _is_error(reply) else None

    return with_bus(env, timeout, work)


def _capabilities(connection: _Connection) -> set[str]:
    reply = connection.call(capabilities_call())
    if not _is_error(reply):
        found = reply.body[0] if reply.body and isinstance(reply.body[0], list) else []
        return {item for item in found if isinstance(item, str)}
    if _error_name(reply) not in _NO_SUCH_METHOD:
        raise _Failure(f"no notification service on the session bus ({error_text(reply)})")
    return set()  # a server without the call: plain text is always shown correctly
