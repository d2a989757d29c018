"""Hostile registry exports: ``parse_reg`` and ``ExportedRegistry`` return the keys or raise ``RegFileError``,
end, take memory in proportion to the file (a key 10,000 levels deep once took 1.6 GB), and the registry
seam answers every look-up as a plain model of the same keys does."""

from __future__ import annotations

import pytest
from hostile_limits import FUZZ, grows_linearly, outcome
from hypothesis import given
from hypothesis import strategies as st

from clientcheck.inspect.formats.regfile import RegFileError, parse_reg
from clientcheck.inspect.registry import ExportedRegistry

HEADER = "Windows Registry Editor Version 5.00"


def utf16(text: str) -> bytes:
    """As regedit writes an export: UTF-16LE with a byte-order mark, CRLF line ends."""
    return b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le")


def _string(name: str, text: str) -> str:
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"' if name else "@"
    return quoted + '="' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _read(data: bytes) -> ExportedRegistry | RegFileError:
    result = outcome(lambda: ExportedRegistry(parse_reg(data)), RegFileError)
    assert isinstance(result, (ExportedRegistry, RegFileError))
    return result


# Shapes that grow: each must cost memory in proportion to the file ---------------------------------------


def _deep(depth: int) -> str:
    return "\\".join(["Sub"] * depth)


def _key(path: str, *lines: str) -> str:
    return f"\n[{path}]\n" + "".join(line + "\n" for line in lines)


GROWING = {
    "one-deep-key": lambda n: HEADER + "\n" + _key(f"HKEY_CURRENT_USER\\{_deep(n)}", '"v"="1"'),
    "every-level-of-a-deep-key": lambda n: (
        HEADER + "\n" + "".join(_key(f"HKEY_LOCAL_MACHINE\\{_deep(depth)}") for depth in range(1, n // 40 + 1))
    ),
    "many-sibling-keys": lambda n: (
        HEADER + "\n" + "".join(_key(f"HKEY_USERS\\S-1-5-21-{i}\\Software") for i in range(n))
    ),
    "many-values": lambda n: HEADER + "\n" + _key("HKCU\\Software", *(f'"v{i}"="{i}"' for i in range(n))),
    "one-long-hex-value": lambda n: (
        HEADER
        + "\n"
        + _key("HKCU\\Software", '"b"=hex:' + ",\\\n  ".join(",".join(["ab"] * 24) for _ in range(n // 8 + 1)))
    ),
    "many-deletions": lambda n: (
        HEADER
        + "\n"
        + "".join(_key(f"HKCU\\A\\{i}") for i in range(n // 2))
        + "".join(_key(f"-HKCU\\A\\{i}") for i in range(n // 2))
    ),
    "many-escaped-quotes": lambda n: HEADER + "\n" + _key("HKCU\\Software", '"cmd"="' + '\\"x\\" ' * n + '"'),
}


@pytest.mark.parametrize("shape", GROWING, ids=list(GROWING))
def test_memory_grows_with_the_file_not_faster(shape: str):
    grows_linearly(lambda n: utf16(GROWING[shape](n)), _read, 2000)


def test_a_key_ten_thousand_levels_deep_is_read():
    registry = _read(utf16(GROWING["one-deep-key"](10_000)))
    assert isinstance(registry, ExportedRegistry)
    path = "HKEY_CURRENT_USER\\" + _deep(10_000)
    assert registry.values(path) == {"v": "1"}
    assert registry.subkeys(path.rsplit("\\", 1)[0]) == ["Sub"]
    assert registry.values(path.upper()) == {"v": "1"}


# The registry seam agrees with a plain model of the keys ----------------------------------------------------

_COMPONENT = st.text(
    st.characters(blacklist_characters="\r\n\\\0", blacklist_categories=("Cs",)), min_size=1, max_size=6
) | st.sampled_from(["a", "A", "Software", "SOFTWARE", "WOW6432Node", "ß", "İ", "k]", "[k"])
_ROOT = st.sampled_from(["HKEY_LOCAL_MACHINE", "HKEY_CURRENT_USER", "HKEY_USERS", "HKEY_CLASSES_ROOT"])
_PATH = st.tuples(_ROOT, st.lists(_COMPONENT, min_size=0, max_size=4)).map(lambda t: "\\".join([t[0], *t[1]]))
_NAME = st.text(st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)), max_size=5)


@FUZZ
@given(st.lists(st.tuples(_PATH, st.dictionaries(_NAME, _NAME, max_size=3)), max_size=8))
def test_look_ups_agree_with_a_plain_model(keys: list[tuple[str, dict[str, str]]]):
    text = HEADER + "\n" + "".join(_key(path, *(_string(n, v) for n, v in values.items())) for path, values in keys)
    registry = _read(utf16(text))
    assert isinstance(registry, ExportedRegistry), registry
    # The model: every key and each of its ancestors exists; paths and names compare without regard to
    # case (as Python's str.lower() folds them), the first spelling of a key's path is kept.
    model: dict[str, dict[str, str]] = {}
    names: dict[str, dict[str, str]] = {}
    for path, values in keys:
        parts = path.split("\\")
        for depth in range(1, len(parts) + 1):
            model.setdefault("\\".join(parts[:depth]).lower(), {})
            if depth > 1:
                names.setdefault("\\".join(parts[: depth - 1]).lower(), {}).setdefault(
                    parts[depth - 1].lower(), parts[depth - 1]
                )
        target = model["\\".join(parts).lower()]
        for name, value in values.items():
            spelt = next((key for key in target if key.lower() == name.lower()), name)
            target[spelt] = value
    for lower, values in model.items():
        assert registry.values(lower) == values, lower
        if lower.upper().lower() == lower:
            assert registry.values(lower.upper()) == values, lower
        assert sorted(child.lower() for child in registry.subkeys(lower)) == sorted(names.get(lower, {}))
        for name, value in values.items():
            assert registry.value(lower, name) == value
            if name.upper().lower() == name.lower():
                assert registry.value(lower, name.upper()) == value
            assert registry.string(lower, name) == (value.strip() or None)
    assert registry.values("HKEY_LOCAL_MACHINE\\no such key") is None or "hkey_local_machine\\no such key" in model
    assert isinstance(registry.user_roots(), list)


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [
                "[HKLM\\SOFTWARE\\Mozilla\\Mozilla Firefox\\153.0 (x64 en-US)\\Main]",
                '"PathToExe"="C:\\\\Program Files\\\\Mozilla Firefox\\\\firefox.exe"',
                "[-HKLM\\SOFTWARE\\Mozilla]",
                '"DisplayVersion"=-',
                '"Version"=dword:0001',
                '"Blob"=hex:00,01,\\',
                "  02,03",
                '"Multi"=hex(7):61,00,00,00,00,00',
                "[HKEY_USERS\\S-1-5-21-1-2-3-1001\\Software]",
                '@="default"',
                "",
                ";",
                "\\",
            ]
        )
        | st.text(max_size=8),
        max_size=20,
    ),
    st.sampled_from(["utf-16", "utf-8", "cut"]),
)
def test_near_valid_exports_are_read_or_refused_by_line(lines: list[str], encoding: str):
    text = HEADER + "\n\n" + "\n".join(lines)
    data = utf16(text) if encoding == "utf-16" else text.encode("utf-8", "surrogatepass")
    if encoding == "cut":
        data = utf16(text)[: len(utf16(text)) * 2 // 3]
    result = _read(data)
    if isinstance(result, RegFileError):
        assert 1 <= result.line <= text.count("\n") + 1
        assert "\n" not in str(result)
        return
    for path, values in parse_reg(data).items():  # every key is reachable from its root, its values intact
        assert result.values(path) == {name: value for name, (_, value) in values.items()}
        parts = path.split("\\")
        for depth in range(1, len(parts)):
            parent = "\\".join(parts[:depth])
            assert parts[depth].lower() in [child.lower() for child in result.subkeys(parent)]
