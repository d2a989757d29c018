"""Hostile property lists: ``parse_plist`` gives the dictionary plistlib reads, or ``PlistError``; it ends and
its memory grows with the file; and a Mac whose Info.plist or SystemVersion.plist is hostile is still
inspected, every app found (its version unknown, with the reason, where it could not be read)."""

from __future__ import annotations

import datetime as dt
import plistlib
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest
from hostile_limits import FUZZ, FUZZ_FEW, grows_linearly, outcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientcheck.inspect import inspect_machine
from clientcheck.inspect.macos import PlistError, parse_plist

SEQUOIA = Path(__file__).resolve().parents[1] / "fixtures" / "macos" / "macos-15-sequoia" / "root"
FIREFOX_PLIST = "Applications/Firefox.app/Contents/Info.plist"
SYSTEM_VERSION = "System/Library/CoreServices/SystemVersion.plist"

_PLIST_VALUE = st.recursive(
    st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)
    | st.binary(max_size=8)
    | st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31)).map(lambda d: d.replace(microsecond=0)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8,
)


def _parse(data: bytes) -> dict[str, Any] | PlistError:
    result = outcome(lambda: parse_plist(data), PlistError)
    assert isinstance(result, (dict, PlistError))
    return result


def _reference(data: bytes) -> Any:
    try:
        return plistlib.loads(data)
    except Exception as error:
        return error


def _same(mine: Any, theirs: Any, seen: set[tuple[int, int]] | None = None) -> bool:
    """Structural equality that ends on what a damaged binary plist can hold: a list that holds itself,
    and one object referenced from many places (``==`` recurses forever on the first, and walks the
    second as a tree of any size)."""
    seen = set() if seen is None else seen
    if isinstance(mine, (dict, list)) and type(mine) is type(theirs):
        pair = (id(mine), id(theirs))
        if pair in seen:
            return True
        seen.add(pair)
        if isinstance(mine, dict):
            return list(mine) == list(theirs) and all(_same(mine[key], theirs[key], seen) for key in mine)
        return len(mine) == len(theirs) and all(_same(a, b, seen) for a, b in zip(mine, theirs, strict=True))
    if isinstance(mine, float) and isinstance(theirs, float) and mine != mine:
        return theirs != theirs
    return type(mine) is type(theirs) and mine == theirs


def _agrees(data: bytes) -> None:
    result = _parse(data)
    expected = _reference(data)
    if isinstance(expected, dict):
        assert _same(result, expected)
    else:
        assert isinstance(result, PlistError)
        assert "\n" not in str(result)


@FUZZ
@given(_PLIST_VALUE, st.sampled_from(list(plistlib.PlistFormat)))
def test_any_plist_reads_as_plistlib_reads_it(value: Any, fmt: plistlib.PlistFormat):
    try:
        data = plistlib.dumps(value, fmt=fmt)
    except (TypeError, OverflowError, ValueError):
        return  # not something this format can hold (an integer too wide, a date out of range)
    _agrees(data)


@FUZZ
@given(
    st.dictionaries(st.text(max_size=6), _PLIST_VALUE, max_size=4),
    st.sampled_from(list(plistlib.PlistFormat)),
    st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=4)), min_size=1, max_size=4),
)
def test_damaged_plists_read_as_plistlib_reads_them(value: dict[str, Any], fmt, damage: list[tuple[float, bytes]]):
    try:
        data = bytearray(plistlib.dumps(value, fmt=fmt))
    except (TypeError, OverflowError, ValueError):
        return
    for where, noise in damage:
        at = int(where * len(data))
        data[at : at + len(noise)] = noise
    _agrees(bytes(data))


@FUZZ
@given(st.binary(max_size=200).map(lambda tail: b"bplist00" + tail) | st.binary(max_size=200))
def test_arbitrary_bytes_read_as_plistlib_reads_them(data: bytes):
    _agrees(data)


def _binary(objects: list[bytes], width: int = 1) -> bytes:
    out = bytearray(b"bplist00")
    offsets = []
    for encoded in objects:
        offsets.append(len(out))
        out += encoded
    table = len(out)
    for offset in offsets:
        out += offset.to_bytes(2, "big")
    return bytes(out + bytes(6) + bytes([2, width]) + struct.pack(">QQQ", len(objects), 0, table))


CRAFTED = {
    # An array holding itself, and one holding the same array twice at each of 40 levels.
    "self-reference": _binary([bytes([0xD1, 1, 0]), b"\x51x"]),
    "shared-40-deep": _binary([bytes([0xA2, level + 1, level + 1]) for level in range(40)] + [b"\x51x"]),
    # Counts and sizes that claim far more than the file holds.
    "huge-array-count": _binary([b"\xaf\x13" + struct.pack(">Q", 2**62)]),
    "huge-string-length": _binary([b"\x5f\x13" + struct.pack(">Q", 2**62)]),
    "huge-object-count": b"bplist00\xd0\x08" + bytes(6) + b"\x01\x01" + struct.pack(">QQQ", 2**62, 0, 9),
    "offset-past-the-end": b"bplist00\xd0\x09" + bytes(6) + b"\x01\x01" + struct.pack(">QQQ", 1, 0, 2**40),
    "xml-billion-laughs": b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(b'<!ENTITY %c "%s">' % (98 + i, b"&%c;" % (97 + i) * 10) for i in range(9))
    + b']><plist version="1.0"><dict><key>k</key><string>&j;</string></dict></plist>',
    "xml-external-entity": b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<plist version="1.0"><dict><key>k</key><string>&x;</string></dict></plist>',
}


@pytest.mark.parametrize("name", CRAFTED, ids=list(CRAFTED))
def test_crafted_plists_read_as_plistlib_reads_them_or_are_refused(name: str):
    result = _parse(CRAFTED[name])
    if isinstance(result, dict):
        assert "root:" not in repr(result)[:1000]  # an external entity is never fetched


def _xml_deep(depth: int) -> bytes:
    return b'<plist version="1.0"><dict><key>k</key>' + b"<array>" * depth + b"</array>" * depth + b"</dict></plist>"


def _xml_many_keys(count: int) -> bytes:
    return plistlib.dumps({f"key{i}": f"value{i}" for i in range(count)})


def _binary_many_keys(count: int) -> bytes:
    return plistlib.dumps({f"key{i}": i for i in range(count)}, fmt=plistlib.FMT_BINARY)


@pytest.mark.parametrize(
    ("make", "size"),
    [
        pytest.param(_xml_deep, 2000, id="xml-deep-arrays"),
        pytest.param(_xml_many_keys, 2000, id="xml-many-keys"),
        pytest.param(_binary_many_keys, 2000, id="binary-many-keys"),
        pytest.param(lambda n: plistlib.dumps({"d": b"\x00" * n}), 50_000, id="xml-long-data"),
    ],
)
def test_memory_grows_with_the_file_not_faster(make, size: int):
    grows_linearly(make, _parse, size, PlistError)


# A whole Mac, with one hostile plist ------------------------------------------------------------------------


def _dumps(value: Any, fmt: plistlib.PlistFormat) -> bytes:
    """``value`` as a plist in ``fmt``, or as a binary one where XML cannot hold it (control characters)."""
    try:
        return plistlib.dumps(value, fmt=fmt)
    except ValueError:
        return plistlib.dumps(value, fmt=plistlib.FMT_BINARY)


@pytest.fixture(scope="module")
def mac(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mac") / "root"
    shutil.copytree(SEQUOIA, root, symlinks=True)
    return root


_HOSTILE_PLISTS = st.one_of(
    st.sampled_from(list(CRAFTED.values())),
    st.builds(
        lambda value, fmt: _dumps(value, fmt),
        st.fixed_dictionaries(
            {"CFBundleIdentifier": st.just("org.mozilla.firefox")},
            optional={
                "CFBundleShortVersionString": _PLIST_VALUE | st.sampled_from(["153.0", "9" * 300, "153.0\x1b[2J"]),
                "CFBundleVersion": _PLIST_VALUE,
                "ProductVersion": _PLIST_VALUE | st.sampled_from(["15.1", "", "15.1 (a)", "26.0.1"]),
                "ProductBuildVersion": _PLIST_VALUE,
            },
        ),
        st.sampled_from(list(plistlib.PlistFormat)),
    ),
    st.binary(max_size=64),
)


@settings(FUZZ_FEW, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=_HOSTILE_PLISTS, target=st.sampled_from([FIREFOX_PLIST, SYSTEM_VERSION]))
def test_a_mac_with_a_hostile_plist_is_still_inspected(mac: Path, data: bytes, target: str):
    path = mac / target
    original = path.read_bytes()
    try:
        path.write_bytes(data)
        inventory = outcome(lambda: inspect_machine("macos", str(mac), env={}))
    finally:
        path.write_bytes(original)
    products = {item.product for item in inventory.software}
    assert {"chrome", "edge", "brave", "opera", "vivaldi", "acrobat-reader", "safari", "preview"} <= products
    for item in inventory.software:
        assert item.version is not None or item.problem, f"{item.product}: unknown without a reason"
    if target == SYSTEM_VERSION:
        assert inventory.os.version is not None or inventory.os.problem
