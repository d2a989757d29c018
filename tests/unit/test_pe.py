"""The file version of Windows executables, read from the PE file: against real executables (the launchers
pip vendors from distlib, which carry a VERSIONINFO resource) and damaged ones."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientcheck.inspect.formats.pe import PeError, file_version, read_file_version

LAUNCHERS = sorted((Path(pytest.importorskip("pip").__file__).parent / "_vendor" / "distlib").glob("*.exe"))


def _fixed_info_the_slow_way(data: bytes) -> str:
    """An independent reading: the VS_FIXEDFILEINFO signature searched for in the raw bytes."""
    at = data.find(struct.pack("<I", 0xFEEF04BD))
    _signature, _struct_version, high, low = struct.unpack_from("<IIII", data, at)
    return f"{high >> 16}.{high & 0xFFFF}.{low >> 16}.{low & 0xFFFF}"


@pytest.mark.parametrize("exe", LAUNCHERS, ids=lambda path: path.name)
def test_real_executables(exe: Path):
    data = exe.read_bytes()
    assert file_version(data) == _fixed_info_the_slow_way(data)
    assert read_file_version(str(exe)) == file_version(data)


def test_there_are_real_executables_to_test():
    assert len(LAUNCHERS) >= 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "not a Windows executable", id="empty"),
        pytest.param(b"#!/bin/sh\necho hi\n", "not a Windows executable", id="a-script"),
        pytest.param(b"MZ" + b"\0" * 10, "truncated or damaged executable", id="truncated-dos-header"),
        pytest.param(
            b"MZ" + b"\0" * 58 + struct.pack("<I", 64) + b"XX\0\0" + b"\0" * 40,
            "not a PE executable",
            id="no-pe-signature",
        ),
    ],
)
def test_damaged_executables(data: bytes, message: str):
    with pytest.raises(PeError, match=message):
        file_version(data)


def test_an_executable_cut_short_is_a_clear_error():
    data = LAUNCHERS[0].read_bytes()
    inside_the_version_resource = data.find("VS_VERSION_INFO".encode("utf-16-le")) + 8
    with pytest.raises(PeError):
        file_version(data[:inside_the_version_resource])


@settings(max_examples=300, deadline=None)
@given(
    cut=st.integers(min_value=0, max_value=200_000),
    noise=st.binary(min_size=1, max_size=64),
    at=st.integers(min_value=0, max_value=200_000),
)
def test_any_damage_is_a_pe_error_or_a_version(cut: int, noise: bytes, at: int):
    data = bytearray(LAUNCHERS[0].read_bytes())
    position = at % len(data)
    data[position : position + len(noise)] = noise
    damaged = bytes(data[: max(cut % (len(data) + 1), 2)])
    try:
        result = file_version(damaged)
    except PeError:
        return
    assert result is None or result.count(".") == 3
