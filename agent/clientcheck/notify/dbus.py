"""Linux and other free desktops: ``org.freedesktop.Notifications.Notify`` on the session D-Bus, spoken
directly over the bus's Unix socket.

Why our own client: the Python D-Bus libraries (dbus-python, jeepney, dbus-fast) are dependencies that
cost install and start-up time, and one notification needs little of D-Bus: connect, authenticate
(SASL EXTERNAL: the kernel tells the bus our uid), ``Hello``, then two method calls and their replies. The
marshalling below follows the D-Bus specification ("Message Protocol"): every value is aligned to its
type's boundary counted from the start of the message, arrays carry their byte length, the header is a
fixed 12 bytes plus an array of (code, variant) fields padded to 8, and the body follows it. We write
little-endian and read either byte order.
"""

from __future__ import annotations

import os
import struct
import sys
import time

from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _socket import socket
    from collections.abc import Mapping, Sequence
    from typing import Any

# Message types and header field codes, from the specification.
METHOD_CALL, METHOD_RETURN, ERROR, SIGNAL = 1, 2, 3, 4
FIELD_PATH, FIELD_INTERFACE, FIELD_MEMBER, FIELD_ERROR_NAME = 1, 2, 3, 4
FIELD_REPLY_SERIAL, FIELD_DESTINATION, FIELD_SENDER, FIELD_SIGNATURE = 5, 6, 7, 8
_FIELD_TYPES = {FIELD_PATH: "o", FIELD_INTERFACE: "s", FIELD_MEMBER: "s", FIELD_ERROR_NAME: "s"}
_FIELD_TYPES |= {FIELD_REPLY_SERIAL: "u", FIELD_DESTINATION: "s", FIELD_SENDER: "s", FIELD_SIGNATURE: "g"}

MAX_ARRAY_BYTES = 64 * 1024 * 1024  # the specification's limits
MAX_MESSAGE_BYTES = 128 * 1024 * 1024
_MAX_REPLY_BYTES = 1024 * 1024  # what we accept to read: our replies are a few hundred bytes
_MAX_DEPTH = 64  # the specification allows 32 arrays inside 32 structs; a variant chain is bounded here

_ALIGNMENT = {"y": 1, "b": 4, "n": 2, "q": 2, "i": 4, "u": 4, "h": 4, "x": 8, "t": 8, "d": 8}
_ALIGNMENT |= {"s": 4, "o": 4, "g": 1, "v": 1, "a": 4, "(": 8, "{": 8}
_FIXED = {"y": "B", "b": "I", "n": "h", "q": "H", "i": "i", "u": "I", "h": "I", "x": "q", "t": "Q", "d": "d"}

NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
BUS = "org.freedesktop.DBus"
BUS_PATH = "/org/freedesktop/DBus"
NOTIFY_SIGNATURE = "susssasa{sv}i"
APP_NAME = "clientcheck"
DESKTOP_ENTRY = "clientcheck"  # the desktop file's name without ".desktop": servers take the app's icon from it
URGENCY_NORMAL, URGENCY_CRITICAL = 1, 2
DEFAULT_TIMEOUT = 2.5  # seconds, for everything from connect to the Notify reply


class MarshalError(ValueError):
    """Bytes or values that are not a valid D-Bus encoding of the signature."""


class Variant(Record):
    """A D-Bus ``v``: a value with its own one-type signature."""

    __slots__ = ("signature", "value")

    signature: str
    value: Any

    def __init__(self, signature: str, value: Any) -> None:
        self._set(locals())


class Message(Record):
    __slots__ = ("type", "flags", "serial", "fields", "signature", "body")

    type: int
    flags: int
    serial: int
    fields: dict[int, Any]  # header field code -> value (the variant's content)
    signature: str
    body: tuple[Any, ...]

    def __init__(
        self, type: int, flags: int, serial: int, fields: dict[int, Any], signature: str, body: tuple[Any, ...]
    ) -> None:
        self._set(locals())


# --- Signatures ---------------------------------------------------------------------------------------


def _type_end(signature: str, start: int) -> int:
    """The index just past the single complete type that begins at ``start``."""
    if start >= len(signature):
        raise MarshalError(f"signature {signature!r} ends inside a type")
    code = signature[start]
    if code == "a":
        return _type_end(signature, start + 1)
    if code in "({":
        close = ")" if code == "(" else "}"
        index = start + 1
        members = 0
        while index < len(signature) and signature[index] != close:
            index = _type_end(signature, index)
            members += 1
        if index >= len(signature):
            raise MarshalError(f"signature {signature!r}: {code!r} is never closed")
        if members == 0 or (code == "{" and members != 2):
            raise MarshalError(f"signature {signature!r}: malformed {'struct' if code == '(' else 'dict entry'}")
        return index + 1
    if code in _ALIGNMENT:
        return start + 1
    raise MarshalError(f"signature {signature!r}: unknown type code {code!r}")


def split_signature(signature: str) -> list[str]:
    """A signature as its complete types: ``"susa{sv}"`` -> ``["s", "u", "s", "a{sv}"]``."""
    types = []
    index = 0
    while index < len(signature):
        end = _type_end(signature, index)
        types.append(signature[index:end])
        index = end
    return types


# --- Writing ------------------------------------------------------------------------------------------


def _pad(out: bytearray, alignment: int) -> None:
    out += bytes(-len(out) % alignment)


def marshal(out: bytearray, signature: str, value: Any) -> None:
    """Append one value of the single complete type ``signature`` to ``out``, little-endian.

    ``out`` must start at a message boundary (or an 8-aligned offset in one), since alignment is counted
    from there. Arrays are lists (dicts for ``a{..}``), structs and dict entries tuples, variants Variant.
    """
    code = signature[0]
    _pad(out, _ALIGNMENT[code])
    if code in _FIXED:
        out += struct.pack("<" + _FIXED[code], int(value) if code == "b" else value)
    elif code in "so":
        raw = value.encode("utf-8")
        if b"\0" in raw:
            raise MarshalError("a D-Bus string cannot hold a NUL character")
        out += struct.pack("<I", len(raw)) + raw + b"\0"
    elif code == "g":
        raw = value.encode("ascii")
        if len(raw) > 255:
            raise MarshalError(f"signature too long: {value!r}")
        out += bytes((len(raw),)) + raw + b"\0"
    elif code == "v":
        if len(split_signature(value.signature)) != 1:
            raise MarshalError(f"a variant holds exactly one type, not {value.signature!r}")
        marshal(out, "g", value.signature)
        marshal(out, value.signature, value.value)
    elif code == "a":
        element = signature[1:]
        length_at = len(out)
        out += b"\0\0\0\0"
        _pad(out, _ALIGNMENT[element[0]])  # present even for an empty array; not counted in its length
        start = len(out)
        for item in value.items() if element[0] == "{" else value:
            marshal(out, element, item)
        if len(out) - start > MAX_ARRAY_BYTES:
            raise MarshalError("array longer than D-Bus allows (64 MiB)")
        struct.pack_into("<I", out, length_at, len(out) - start)
    else:  # struct or dict entry
        members = split_signature(signature[1:-1])
        if len(members) != len(value):
            raise MarshalError(f"{signature} needs {len(members)} values, got {len(value)}")
        for member, item in zip(members, value, strict=True):
            marshal(out, member, item)


def build_message(
    message_type: int,
    serial: int,
    fields: Sequence[tuple[int, Variant]],
    signature: str = "",
    body: Sequence[Any] = (),
    *,
    flags: int = 0,
) -> bytes:
    """A whole message: the fixed header, the header fields (SIGNATURE added when there is a body), the
    padding to 8, then the body."""
    body_types = split_signature(signature)
    if len(body_types) != len(body):
        raise MarshalError(f"signature {signature!r} needs {len(body_types)} values, got {len(body)}")
    body_bytes = bytearray()
    for part, value in zip(body_types, body, strict=True):
        marshal(body_bytes, part, value)
    all_fields = list(fields)
    if signature:
        all_fields.append((FIELD_SIGNATURE, Variant("g", signature)))
    header = bytearray(b"l")  # little-endian
    header += bytes((message_type, flags, 1))  # protocol version 1
    header += struct.pack("<II", len(body_bytes), serial)
    marshal(header, "a(yv)", all_fields)
    _pad(header, 8)
    if len(header) + len(body_bytes) > MAX_MESSAGE_BYTES:
        raise MarshalError("message longer than D-Bus allows (128 MiB)")
    return bytes(header + body_bytes)


def method_call(
    serial: int,
    *,
    destination: str,
    path: str,
    interface: str,
    member: str,
    signature: str = "",
    body: Sequence[Any] = (),
) -> bytes:
    fields = [
        (FIELD_PATH, Variant("o", path)),
        (FIELD_INTERFACE, Variant("s", interface)),
        (FIELD_MEMBER, Variant("s", member)),
        (FIELD_DESTINATION, Variant("s", destination)),
    ]
    return build_message(METHOD_CALL, serial, fields, signature, body)


# --- Reading ------------------------------------------------------------------------------------------


class _Reader:
    """Reads values from one whole message; offsets (and so alignment) count from its first byte."""

    __slots__ = ("data", "order", "position")

    def __init__(self, data: bytes, little_endian: bool, position: int = 0) -> None:
        self.data = data
        self.order = "<" if little_endian else ">"
        self.position = position

    def _take(self, size: int) -> bytes:
        end = self.position + size
        if end > len(self.data):
            raise MarshalError("message ends inside a value")
        chunk = self.data[self.position : end]
        self.position = end
        return chunk

    def align(self, alignment: int) -> None:
        padding = self._take(-self.position % alignment)
        if padding.strip(b"\0"):
            raise MarshalError("padding bytes are not zero")

    def read(self, signature: str, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise MarshalError("values nested too deeply")
        code = signature[0]
        self.align(_ALIGNMENT[code])
        if code in _FIXED:
            fmt = self.order + _FIXED[code]
            (value,) = struct.unpack(fmt, self._take(struct.calcsize(fmt)))
            if code == "b":
                if value > 1:
                    raise MarshalError(f"boolean value {value}")
                return bool(value)
            return value
        if code in "sog":
            if code == "g":
                length = self._take(1)[0]
            else:
                (length,) = struct.unpack(self.order + "I", self._take(4))
            raw = self._take(length + 1)
            if raw[-1] != 0 or b"\0" in raw[:-1]:
                raise MarshalError("string not terminated by a single NUL")
            try:
                return raw[:-1].decode("utf-8" if code != "g" else "ascii")
            except UnicodeDecodeError:
                raise MarshalError("string is not valid UTF-8") from None
        if code == "v":
            inner = self.read("g", depth + 1)
            if len(split_signature(inner)) != 1:
                raise MarshalError(f"a variant holds exactly one type, not {inner!r}")
            return Variant(inner, self.read(inner, depth + 1))
        if code == "a":
            (length,) = struct.unpack(self.order + "I", self._take(4))
            if length > MAX_ARRAY_BYTES:
                raise MarshalError("array longer than D-Bus allows")
            element = signature[1:]
            self.align(_ALIGNMENT[element[0]])
            end = self.position + length
            if end > len(self.data):
                raise MarshalError("message ends inside an array")
            items = []
            while self.position < end:
                items.append(self.read(element, depth + 1))
            if self.position != end:
                raise MarshalError("array elements overrun the array's length")
            return dict(items) if element[0] == "{" else items
        return tuple(self.read(member, depth + 1) for member in split_signature(signature[1:-1]))


def message_size(start: bytes) -> int:
    """The whole length of the message whose first 16 bytes are ``start``."""
    if start[0:1] not in (b"l", b"B"):
        raise MarshalError(f"not a D-Bus message (byte order {start[0:1]!r})")
    order = "<" if start[0:1] == b"l" else ">"
    body_length: int
    fields_length: int
    body_length, _serial, fields_length = struct.unpack(order + "III", start[4:16])
    header_length = 16 + fields_length + (-(16 + fields_length) % 8)
    return header_length + body_length


def parse_message(data: bytes) -> Message:
    """One whole message (as many bytes as ``message_size`` said)."""
    if len(data) < 16:
        raise MarshalError("message shorter than its fixed header")
    if data[3] != 1:
        raise MarshalError(f"D-Bus protocol version {data[3]} is not 1")
    total = message_size(data[:16])
    if len(data) != total:
        raise MarshalError(f"message is {len(data)} bytes, its header says {total}")
    reader = _Reader(data, data[0:1] == b"l", 8)
    serial = reader.read("u")
    if serial == 0:
        raise MarshalError("serial 0 is not allowed")
    fields: dict[int, Any] = {}
    for code, variant in reader.read("a(yv)"):
        expected = _FIELD_TYPES.get(code)
        if expected is not None and variant.signature != expected:
            raise MarshalError(f"header field {code} has type {variant.signature!r}, not {expected!r}")
        fields[code] = variant.value
    reader.align(8)  # the body starts here: message_size counted the same header, so its length is right
    signature = fields.get(FIELD_SIGNATURE, "")
    body = tuple(reader.read(part) for part in split_signature(signature))
    if reader.position != total:
        raise MarshalError("body is longer than its signature")
    return Message(data[1], data[2], serial, fields, signature, body)


# --- Bus addresses ------------------------------------------------------------------------------------


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


# --- The connection -----------------------------------------------------------------------------------


class _Failure(Exception):  # noqa: N818 - not a bug: the one-line reason notify returns
    pass


class _Closed(Exception):  # noqa: N818 - the peer hung up: the caller says at which step
    pass


class _Connection:
    """One authenticated bus connection; every wait is bounded by the one ``deadline``."""

    __slots__ = ("buffer", "deadline", "serial", "sock")

    def __init__(self, sock: socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.buffer = bytearray()
        self.serial = 0

    def _remaining(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    def send(self, data: bytes) -> None:
        self.sock.settimeout(self._remaining())
        self.sock.sendall(data)

    def _receive(self) -> None:
        self.sock.settimeout(self._remaining())
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Closed
        self.buffer += chunk

    def read_line(self) -> str:
        """One line of the authentication dialogue, without its CR LF."""
        while b"\r\n" not in self.buffer:
            if len(self.buffer) > 4096:
                raise _Failure("the session bus sent an overlong authentication line")
            self._receive()
        line, _, rest = bytes(self.buffer).partition(b"\r\n")
        self.buffer = bytearray(rest)
        return line.decode("ascii", "replace")

    def read_message(self) -> Message:
        while len(self.buffer) < 16:
            self._receive()
        try:
            size = message_size(bytes(self.buffer[:16]))
        except MarshalError as error:
            raise _Failure(f"the session bus sent something that is not D-Bus ({error})") from None
        if size > _MAX_REPLY_BYTES:
            raise _Failure(f"the session bus sent a {size}-byte message; replies are small")
        while len(self.buffer) < size:
            self._receive()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        try:
            return parse_message(data)
        except MarshalError as error:
            raise _Failure(f"the session bus sent a malformed message ({error})") from None

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def reply_to(self, serial: int) -> Message:
        """The method return or error answering ``serial``; signals (NameAcquired) are passed over."""
        while True:
            message = self.read_message()
            if message.type in (METHOD_RETURN, ERROR) and message.fields.get(FIELD_REPLY_SERIAL) == serial:
                return message


def _error_text(message: Message) -> str:
    name = message.fields.get(FIELD_ERROR_NAME, "an unnamed error")
    detail = message.body[0] if message.signature.startswith("s") else ""
    return f"{name}: {detail}" if detail else str(name)


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
    if sys.platform == "win32":
        return "no D-Bus session bus on Windows"
    sockets, reason = _bus_sockets(env)
    if not sockets:
        return reason
    # The C module, not ``socket``: that wrapper builds enums and imports selectors, 14 ms measured here,
    # and one blocking AF_UNIX stream needs none of it.
    import _socket

    deadline = time.monotonic() + timeout
    problems = []
    for name, address in sockets:
        stage = f"connecting to the session bus at {name}"
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                sock.connect(address)
            except OSError as error:
                problems.append(f"cannot connect to the session bus at {name}: {error.strerror or error}")
                continue
            connection = _Connection(sock, deadline)
            stage = "authenticating to the session bus"
            _authenticate(connection)
            stage = "asking the notification service what it shows"
            caps = _capabilities(connection)
            stage = "sending the notification"
            return _notify(connection, title, compose_body(body, url, location, link_label, caps), critical)
        except _Failure as failure:
            return str(failure)
        except (_Closed, BrokenPipeError, ConnectionResetError):
            return f"the session bus closed the connection while {stage}"
        except TimeoutError:
            return f"no answer within {timeout:g} s while {stage}"
        except OSError as error:
            return f"{stage} failed: {error.strerror or error}"
        finally:
            sock.close()
    return "; ".join(problems)


def _authenticate(connection: _Connection) -> None:
    # SASL EXTERNAL: the bus reads our uid from the socket (SO_PEERCRED); we name it, hex-encoded ASCII
    # decimal. The first byte must be a NUL (where credentials would be passed on other systems).
    if sys.platform == "win32":  # for the type checker: send_notification never gets here on Windows
        raise _Failure("no D-Bus session bus on Windows")
    uid = os.geteuid()
    connection.send(b"\0AUTH EXTERNAL " + str(uid).encode("ascii").hex().encode("ascii") + b"\r\n")
    answer = connection.read_line()
    if answer.startswith("REJECTED"):
        raise _Failure(f"the session bus refused authentication as uid {uid} ({answer})")
    if not answer.startswith("OK "):
        raise _Failure(f"the session bus answered {answer[:60]!r} to authentication")
    hello = method_call(connection.next_serial(), destination=BUS, path=BUS_PATH, interface=BUS, member="Hello")
    connection.send(b"BEGIN\r\n" + hello)
    try:
        reply = connection.reply_to(connection.serial)
    except _Closed:
        # libdbus authenticates anyone, then lets in only the bus owner (root reaching for a user's bus).
        raise _Failure(
            f"the session bus closed the connection after authentication as uid {uid}: "
            "it admits only the user it belongs to"
        ) from None
    if reply.type == ERROR:
        raise _Failure(f"the session bus refused Hello: {_error_text(reply)}")


def _capabilities(connection: _Connection) -> set[str]:
    serial = connection.next_serial()
    connection.send(
        method_call(
            serial,
            destination=NOTIFICATIONS,
            path=NOTIFICATIONS_PATH,
            interface=NOTIFICATIONS,
            member="GetCapabilities",
        )
    )
    reply = connection.reply_to(serial)
    if reply.type == METHOD_RETURN and reply.signature == "as":
        return set(reply.body[0])
    name = reply.fields.get(FIELD_ERROR_NAME, "")
    if reply.type == ERROR and name not in (
        "org.freedesktop.DBus.Error.UnknownMethod",
        "org.freedesktop.DBus.Error.NotSupported",
    ):
        raise _Failure(f"no notification service on the session bus ({_error_text(reply)})")
    return set()  # a server without the call: plain text is always shown correctly


def _notify(connection: _Connection, title: str, body: str, critical: bool) -> str | None:
    serial = connection.next_serial()
    hints = {
        "urgency": Variant("y", URGENCY_CRITICAL if critical else URGENCY_NORMAL),
        "desktop-entry": Variant("s", DESKTOP_ENTRY),
    }
    icon = "software-update-urgent" if critical else "software-update-available"  # freedesktop icon names
    no_actions: list[str] = []  # we exit at once: nobody would be listening for an action's signal
    replaces_id = 0
    server_default_timeout = -1
    arguments = (APP_NAME, replaces_id, icon, title, body, no_actions, hints, server_default_timeout)
    connection.send(
        method_call(
            serial,
            destination=NOTIFICATIONS,
            path=NOTIFICATIONS_PATH,
            interface=NOTIFICATIONS,
            member="Notify",
            signature=NOTIFY_SIGNATURE,
            body=arguments,
        )
    )
    reply = connection.reply_to(serial)
    if reply.type == ERROR:
        return f"notification service refused: {_error_text(reply)}"
    return None
