"""The D-Bus wire format of clientcheck.notify.dbus, byte for byte.

Every expected byte string here is laid out by hand from the D-Bus specification ("Message Protocol":
alignment counted from the message start, array byte lengths that exclude the padding after the length,
a header of 12 fixed bytes plus an a(yv) field array padded to 8), not produced by the code under test.
That the real dbus-daemon and dbus-monitor accept and decode what we write is in test_notify_linux.py.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientcheck.notify.dbus import (
    ERROR,
    FIELD_ERROR_NAME,
    FIELD_REPLY_SERIAL,
    FIELD_SIGNATURE,
    METHOD_CALL,
    METHOD_RETURN,
    MarshalError,
    Variant,
    build_message,
    compose_body,
    marshal,
    message_size,
    method_call,
    parse_address,
    parse_message,
    split_signature,
)


def encode(signature: str, value: object, prefix: bytes = b"") -> bytes:
    out = bytearray(prefix)
    marshal(out, signature, value)
    return bytes(out[len(prefix) :])


def pad_to(data: bytes, alignment: int) -> bytes:
    return data + bytes(-len(data) % alignment)


# --- single values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signature", "value", "expected"),
    [
        ("y", 2, b"\x02"),
        ("b", True, b"\x01\x00\x00\x00"),  # BOOLEAN is a 32-bit 0 or 1
        ("b", False, b"\x00\x00\x00\x00"),
        ("i", -1, b"\xff\xff\xff\xff"),  # expire_timeout -1, little-endian two's complement
        ("u", 0x01020304, b"\x04\x03\x02\x01"),
        ("n", -2, b"\xfe\xff"),
        ("t", 1, b"\x01" + bytes(7)),
        ("s", "abc", b"\x03\x00\x00\x00abc\x00"),  # length, bytes, a NUL not counted in the length
        ("s", "", b"\x00\x00\x00\x00\x00"),
        ("s", "ß", b"\x02\x00\x00\x00\xc3\x9f\x00"),  # the length counts UTF-8 bytes, not characters
        ("o", "/a", b"\x02\x00\x00\x00/a\x00"),
        ("g", "sv", b"\x02sv\x00"),  # SIGNATURE: a one-byte length
        ("v", Variant("y", 2), b"\x01y\x00\x02"),  # the variant's signature, then its value
        ("v", Variant("s", "x"), b"\x01s\x00\x00\x01\x00\x00\x00x\x00"),  # the string aligns to 4 after 'g'
    ],
)
def test_basic_types(signature, value, expected):
    assert encode(signature, value) == expected


def test_alignment_counts_from_the_message_start():
    # A UINT32 after one byte starts at offset 4; after three bytes at offset 4 too; after four, at 4.
    assert encode("u", 7, prefix=b"\x01") == b"\x00\x00\x00\x07\x00\x00\x00"
    assert encode("u", 7, prefix=b"\x01\x02\x03\x04") == b"\x07\x00\x00\x00"
    # A struct aligns to 8 wherever it starts.
    assert encode("(y)", (9,), prefix=b"\x01") == bytes(7) + b"\x09"


def test_array_of_strings():
    # Elements: "a" = 01000000 61 00 (6 bytes), padding to 4 (2 bytes), "bc" = 02000000 62 63 00 (7 bytes):
    # the array's length is 15, the padding between elements counted, none after the last.
    expected = b"\x0f\x00\x00\x00" + b"\x01\x00\x00\x00a\x00" + b"\x00\x00" + b"\x02\x00\x00\x00bc\x00"
    assert encode("as", ["a", "bc"]) == expected


def test_empty_array_of_8_aligned_elements_still_pads_to_the_element():
    # Length 0 at offset 0..4, then padding to 8 even though there is no element, not counted in the length.
    assert encode("a{sv}", {}) == b"\x00\x00\x00\x00" + bytes(4)
    # After one UINT32 the length sits at 4..8 and the elements would start at 8: no padding.
    assert encode("a{sv}", {}, prefix=b"\x00\x00\x00\x00") == b"\x00\x00\x00\x00"
    # An empty array of strings (aligned to 4) needs no padding after its length.
    assert encode("as", []) == b"\x00\x00\x00\x00"


def test_hints_dictionary():
    # a{sv} {"urgency": <byte 2>}: length at 0..4, padding 4..8, the dict entry at 8:
    # "urgency" 07000000 'urgency' 00 (8..20), variant signature 01 'y' 00 (20..23), byte 02 (23): ends at 24.
    expected = b"\x10\x00\x00\x00" + bytes(4) + b"\x07\x00\x00\x00urgency\x00" + b"\x01y\x00" + b"\x02"
    assert encode("a{sv}", {"urgency": Variant("y", 2)}) == expected


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

    built = method_call(
        1,
        destination="org.freedesktop.DBus",
        path="/org/freedesktop/DBus",
        interface="org.freedesktop.DBus",
        member="Hello",
    )
    assert built == expected


def test_message_with_a_body_carries_its_signature_field():
    built = build_message(
        METHOD_CALL, 7, [(3, Variant("s", "M"))], "su", ("a", 0x11223344), flags=0
    )  # a call with only MEMBER, for size
    member = b"\x03\x01s\x00" + struct.pack("<I", 1) + b"M\x00"  # at 16, ends at 26
    signature = b"\x08\x01g\x00" + b"\x02su\x00"  # at 32, ends at 40
    fields = pad_to(member, 8) + signature
    body = b"\x01\x00\x00\x00a\x00" + b"\x00\x00" + b"\x44\x33\x22\x11"
    header = pad_to(b"l\x01\x00\x01" + struct.pack("<II", len(body), 7) + struct.pack("<I", len(fields)) + fields, 8)
    assert built == header + body
    assert message_size(built[:16]) == len(built)


def test_notify_call_round_trips_through_the_reader():
    arguments = ("clientcheck", 0, "icon", "Titel – ß", "Körper\n日本語", [], {"urgency": Variant("y", 2)}, -1)  # noqa: RUF001
    built = method_call(
        3,
        destination="org.freedesktop.Notifications",
        path="/org/freedesktop/Notifications",
        interface="org.freedesktop.Notifications",
        member="Notify",
        signature="susssasa{sv}i",
        body=arguments,
    )
    message = parse_message(built)
    assert message.type == METHOD_CALL
    assert message.serial == 3
    assert message.signature == "susssasa{sv}i"
    assert message.body == arguments


@settings(max_examples=200, deadline=None)
@given(
    st.text(),
    st.integers(0, 2**32 - 1),
    st.lists(st.text(max_size=20), max_size=5),
    st.dictionaries(st.text(max_size=10), st.integers(0, 255).map(lambda byte: Variant("y", byte)), max_size=4),
    st.integers(-(2**31), 2**31 - 1),
)
def test_any_notify_arguments_round_trip(text, number, actions, hints, timeout):
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\0", "")
    actions = [action.encode("utf-8", "replace").decode("utf-8").replace("\0", "") for action in actions]
    hints = {key.encode("utf-8", "replace").decode("utf-8").replace("\0", ""): value for key, value in hints.items()}
    body = (text, number, text, text, text, actions, hints, timeout)
    built = build_message(METHOD_CALL, 1, [], "susssasa{sv}i", body)
    assert message_size(built[:16]) == len(built)
    assert parse_message(built).body == body


# --- reading replies ----------------------------------------------------------------------------------


def big_endian_capabilities_reply() -> bytes:
    """A METHOD_RETURN as a big-endian machine (s390x) would send it: reply to serial 2, body as."""
    reply_serial = b"\x05\x01u\x00" + struct.pack(">I", 2)  # at 16, ends at 24
    signature = b"\x08\x01g\x00" + b"\x02as\x00"  # at 24, ends at 32
    fields = reply_serial + signature
    # At 32: the array length; "body" at 36..45, padding 45..48, "actions" at 48..60: 24 bytes of elements.
    body = struct.pack(">I", 24) + struct.pack(">I", 4) + b"body\x00" + bytes(3) + struct.pack(">I", 7) + b"actions\x00"
    fixed = b"B\x02\x00\x01" + struct.pack(">II", len(body), 9) + struct.pack(">I", len(fields))
    return pad_to(fixed + fields, 8) + body


def test_reads_a_big_endian_reply():
    data = big_endian_capabilities_reply()
    assert message_size(data[:16]) == len(data)
    message = parse_message(data)
    assert message.type == METHOD_RETURN
    assert message.serial == 9
    assert message.fields[FIELD_REPLY_SERIAL] == 2
    assert message.fields[FIELD_SIGNATURE] == "as"
    assert message.body == (["body", "actions"],)


def test_reads_an_error_reply():
    fields = [
        (FIELD_REPLY_SERIAL, Variant("u", 3)),
        (FIELD_ERROR_NAME, Variant("s", "org.freedesktop.DBus.Error.ServiceUnknown")),
    ]
    message = parse_message(build_message(ERROR, 5, fields, "s", ("The name is not activatable",)))
    assert message.type == ERROR
    assert message.fields[FIELD_ERROR_NAME] == "org.freedesktop.DBus.Error.ServiceUnknown"
    assert message.body == ("The name is not activatable",)


def corrupt(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value) :]


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda data: data[:-1], "is 59 bytes"),
        (lambda data: corrupt(data, 0, b"X"), "byte order"),
        (lambda data: corrupt(data, 3, b"\x02"), "protocol version 2"),
        (lambda data: corrupt(data, 8, b"\x00\x00\x00\x00"), "serial 0"),
        (lambda data: corrupt(data, 46, b"\x01"), "padding bytes are not zero"),  # the padding after "body\0"
        (lambda data: corrupt(data, 44, b"X"), "not terminated"),  # the NUL after "body" replaced
        (lambda data: corrupt(data, 30, b"\x01"), "signature"),  # 'as' becomes 'a\x01'
        (lambda data: corrupt(data, 32, struct.pack(">I", 23)), "overrun"),  # "actions" crosses the array's end
        (lambda data: corrupt(data, 4, struct.pack(">I", 27)), "header says 59"),  # the body length disagrees
    ],
)
def test_refuses_malformed_messages(damage, problem):
    with pytest.raises(MarshalError, match=problem):
        parse_message(damage(big_endian_capabilities_reply()))


def test_refuses_a_boolean_that_is_not_0_or_1():
    data = build_message(METHOD_RETURN, 1, [(FIELD_REPLY_SERIAL, Variant("u", 1))], "b", (True,))
    with pytest.raises(MarshalError, match="boolean value 2"):
        parse_message(data[:-4] + b"\x02\x00\x00\x00")


def test_refuses_invalid_utf8():
    data = build_message(METHOD_RETURN, 1, [], "s", ("ab",))
    with pytest.raises(MarshalError, match="UTF-8"):
        parse_message(data[:-3] + b"\xff\xfe\x00")


def test_refuses_variants_nested_without_end():
    # A variant holding a variant holding a variant…: bounded, not a RecursionError.
    value: object = Variant("y", 1)
    for _ in range(100):
        value = Variant("v", value)
    data = build_message(METHOD_RETURN, 1, [], "v", (value,))
    with pytest.raises(MarshalError, match="nested too deeply"):
        parse_message(data)


def test_refuses_an_array_longer_than_the_message():
    data = build_message(METHOD_RETURN, 1, [], "as", (["x"],))
    body_start = len(data) - 10
    with pytest.raises(MarshalError):
        parse_message(corrupt(data, body_start, struct.pack("<I", 1000)))


@pytest.mark.parametrize("signature", ["a", "(", "()", "a{s}", "a{svs}", "z", "(ss"])
def test_refuses_malformed_signatures(signature):
    with pytest.raises(MarshalError):
        split_signature(signature)


def test_splits_signatures_into_complete_types():
    assert split_signature("susssasa{sv}i") == ["s", "u", "s", "s", "s", "as", "a{sv}", "i"]
    assert split_signature("a(yv)aa{s(ii)}v") == ["a(yv)", "aa{s(ii)}", "v"]


def test_refuses_to_write_a_nul_in_a_string():
    with pytest.raises(MarshalError, match="NUL"):
        encode("s", "a\0b")


def test_refuses_a_body_that_does_not_match_its_signature():
    with pytest.raises(MarshalError, match="needs 2 values"):
        build_message(METHOD_CALL, 1, [], "su", ("only one",))


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
