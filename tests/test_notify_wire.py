"""The D-Bus messages clientcheck.notify.dbus sends, as jeepney writes them, checked against the
specification ("Message Protocol": alignment counted from the message start, array byte lengths that
exclude the padding after the length, a header of 12 fixed bytes plus an a(yv) field array padded to 8).

The expected bytes are laid out by hand from the specification, not produced by the code under test.
That the real dbus-daemon, dbus-monitor (libdbus) and dunst accept and decode what we send, and that
replies (big-endian ones too) and broken peers are handled, is in test_notify_linux.py.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jeepney.low_level import HeaderFields, Message, MessageType

from clientcheck.notify import BODY_LIMIT, TITLE_LIMIT, clean_text
from clientcheck.notify.dbus import (
    capabilities_call,
    compose_body,
    hello_call,
    notify_call,
    parse_address,
)


def pad_to(data: bytes, alignment: int) -> bytes:
    return data + bytes(-len(data) % alignment)


def test_hello_message_byte_for_byte():
    """org.freedesktop.DBus.Hello, the first call on every connection: no body, four header fields."""
    fixed = b"l\x01\x00\x01" + struct.pack("<I", 0) + struct.pack("<I", 1)  # little, METHOD_CALL, v1; serial 1
    path = b"\x01\x01o\x00" + struct.pack("<I", 21) + b"/org/freedesktop/DBus\x00"  # at 16, ends at 46
    interface = b"\x02\x01s\x00" + struct.pack("<I", 20) + b"org.freedesktop.DBus\x00"  # at 48, ends at 77
    member = b"\x03\x01s\x00" + struct.pack("<I", 5) + b"Hello\x00"  # at 80, ends at 94
    destination = b"\x06\x01s\x00" + struct.pack("<I", 20) + b"org.freedesktop.DBus\x00"  # at 96, ends at 125
    fields = pad_to(path, 8) + pad_to(interface, 8) + pad_to(member, 8) + destination
    assert len(fields) == 109  # 125 - 16: the padding after the last struct is not part of the array
    expected = pad_to(fixed + struct.pack("<I", len(fields)) + fields, 8)
    assert len(expected) == 128
    assert hello_call().serialise(serial=1) == expected


def test_capabilities_call_is_addressed_to_the_notification_service():
    message = Message.from_buffer(capabilities_call().serialise(serial=2))
    assert message.header.message_type == MessageType.method_call
    assert message.header.serial == 2
    assert message.header.fields == {
        HeaderFields.path: "/org/freedesktop/Notifications",
        HeaderFields.interface: "org.freedesktop.Notifications",
        HeaderFields.member: "GetCapabilities",
        HeaderFields.destination: "org.freedesktop.Notifications",
    }
    assert message.body == ()


def notify_bytes(title: str, body: str, *, critical: bool = False) -> bytes:
    return notify_call(title, body, critical=critical).serialise(serial=3)


def test_notify_call_carries_the_notification():
    data = notify_bytes("Titel – ß", "Körper\n日本語", critical=True)  # noqa: RUF001
    message = Message.from_buffer(data)
    assert message.header.fields[HeaderFields.member] == "Notify"
    assert message.header.fields[HeaderFields.destination] == "org.freedesktop.Notifications"
    assert message.header.fields[HeaderFields.signature] == "susssasa{sv}i"
    assert message.body == (
        "clientcheck",
        0,
        "software-update-urgent",
        "Titel – ß",  # noqa: RUF001
        "Körper\n日本語",
        [],
        {"urgency": ("y", 2), "desktop-entry": ("s", "clientcheck")},
        -1,
    )


def test_notify_hints_are_laid_out_as_the_specification_says():
    # The body of a Notify call with empty texts: "clientcheck" (0..16), replaces_id 0 (16..20),
    # "software-update-available" (20..50), "" (52..57), "" (60..65), an empty as (68..72), then the
    # a{sv} at 72: its length, no padding (76 is not 8-aligned, so the entries start at 80), then
    # "urgency" (80..92), variant 'y' (92..95), byte 1 (95); padding to 96, "desktop-entry" (96..114),
    # variant 's' (114..117), padding to 120, "clientcheck" (120..136); then the INT32 -1 (136..140).
    hints = (
        b"\x07\x00\x00\x00urgency\x00" + b"\x01y\x00" + b"\x01"
        b"\x0d\x00\x00\x00desktop-entry\x00" + b"\x01s\x00" + bytes(3) + b"\x0b\x00\x00\x00clientcheck\x00"
    )
    expected_body = (
        b"\x0b\x00\x00\x00clientcheck\x00"
        + bytes(4)
        + b"\x19\x00\x00\x00software-update-available\x00"
        + bytes(2)
        + b"\x00\x00\x00\x00\x00"
        + bytes(3)
        + b"\x00\x00\x00\x00\x00"
        + bytes(3)
        + b"\x00\x00\x00\x00"
        + struct.pack("<I", len(hints))
        + bytes(4)
        + hints
        + b"\xff\xff\xff\xff"
    )
    data = notify_bytes("", "")
    assert data.endswith(expected_body)
    assert struct.unpack("<I", data[4:8]) == (len(expected_body),)  # the header's body length
    assert (len(data) - len(expected_body)) % 8 == 0  # the body starts 8-aligned


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text(), st.booleans())
def test_any_text_notify_is_given_can_be_sent(title, body, critical):
    # Whatever text reaches notify(), once cleaned it is a valid D-Bus message that reads back the same.
    title, body = clean_text(title, TITLE_LIMIT), clean_text(body, BODY_LIMIT)
    message = Message.from_buffer(notify_bytes(title, body, critical=critical))
    assert message.body[3:5] == (title, body)
    assert message.body[6]["urgency"] == ("y", 2 if critical else 1)


# --- addresses and the body text ----------------------------------------------------------------------


def test_parses_bus_addresses():
    text = "unix:path=/run/user/1000/bus,guid=0123abcd;unix:abstract=/tmp/dbus-X%2cY;tcp:host=localhost,port=1"
    assert parse_address(text) == [
        ("unix", {"path": b"/run/user/1000/bus", "guid": b"0123abcd"}),
        ("unix", {"abstract": b"/tmp/dbus-X,Y"}),  # %2c is an escaped comma
        ("tcp", {"host": b"localhost", "port": b"1"}),
    ]


def test_parses_escaped_bytes_in_a_path():
    assert parse_address("unix:path=/tmp/a%20b%ff") == [("unix", {"path": b"/tmp/a b\xff"})]


@pytest.mark.parametrize("text", ["", "nocolon", ":path=/x", "unix:path", "unix:path=/x%zz", "unix:path=/x%2"])
def test_drops_unreadable_address_entries(text):
    assert parse_address(text) == []


URL = "file:///home/ana/.cache/clientcheck/report.html"
LOCATION = "/home/ana/.cache/clientcheck/report.html"


def test_body_with_hyperlinks_gets_a_link_and_escaped_text():
    caps = {"body", "body-markup", "body-hyperlinks"}
    body = compose_body("Update <Firefox> & Chrome", URL, LOCATION, "Bericht öffnen", caps)
    assert body == f'Update &lt;Firefox&gt; &amp; Chrome\n<a href="{URL}">Bericht öffnen</a>'


def test_link_text_defaults_to_the_path_and_quotes_are_escaped_in_the_address():
    caps = {"body-hyperlinks"}
    url = "https://example.org/r?a=1&b='2'"
    assert compose_body("x", url, url, None, caps) == (
        "x\n<a href=\"https://example.org/r?a=1&amp;b=&apos;2&apos;\">https://example.org/r?a=1&amp;b='2'</a>"
    )


def test_body_with_markup_but_no_links_gets_the_path_as_text():
    # GNOME Shell: body-markup, no body-hyperlinks.
    body = compose_body("A & B", URL, LOCATION, "Open", {"body", "body-markup", "actions"})
    assert body == f"A &amp; B\n{LOCATION}"


def test_plain_body_is_left_alone():
    assert compose_body("A & <B>", URL, LOCATION, "Open", {"body"}) == f"A & <B>\n{LOCATION}"
    assert compose_body("A & <B>", None, None, None, set()) == "A & <B>"
    assert compose_body("", URL, LOCATION, None, set()) == LOCATION
