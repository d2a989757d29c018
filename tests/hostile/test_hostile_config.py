"""Hostile configuration: TOML files, environment variables, a managed plist and Group Policy values give the
settings (each of its kind) or one ``ConfigError``, never another exception, and end; the TOML reader agrees
with tomllib wherever tomllib reads a document, and refuses with ``TomlError`` wherever tomllib cannot
(tests/unit/test_tomlread.py holds the fast reader to tomllib on plain documents; these are the hostile
ones: deep nesting, integers past Python's conversion limit, controls)."""

from __future__ import annotations

import plistlib
import struct
from pathlib import Path
from typing import Any

import pytest
import tomllib
from hostile_limits import FUZZ, FUZZ_FEW, grows_linearly, outcome
from hypothesis import given
from hypothesis import strategies as st

import clientcheck
from clientcheck.config import Places, Settings, load_settings
from clientcheck.config.table import FORMATS
from clientcheck.errors import ConfigError
from clientcheck.inspect.formats.regfile import parse_reg
from clientcheck.inspect.registry import ExportedRegistry
from clientcheck.tomlread import TomlError, parse

SETTINGS = [
    "rules.source",
    "rules.key",
    "rules.ca_bundle",
    "report.format",
    "report.output",
    "report.language",
    "report.sinks",
    "privacy.home_paths",
    "login.delay",
    "login.interval",
    "login.notify",
    "login.history",
]
KINDS = {
    "report.format": "choice",
    "privacy.home_paths": "choice",
    "report.sinks": "sinks",
    "login.delay": "duration",
    "login.interval": "duration",
    "login.notify": "bool",
    "login.history": "count",
}


def _assert_well_typed(settings: Settings) -> None:
    """Whatever the sources held, what a run gets is of each setting's kind."""
    for name, value in settings.values.items():
        kind = KINDS.get(name, "text")
        if kind == "bool":
            assert isinstance(value, bool), (name, value)
        elif kind in ("count", "duration"):
            assert isinstance(value, int) and not isinstance(value, bool), (name, value)
            assert 0 <= value < 10**18, name  # what a login run can sleep, count or show
        elif kind == "sinks":
            assert isinstance(value, tuple) and all(
                isinstance(format_name, str) and format_name in FORMATS and isinstance(path, str) and path
                for format_name, path in value
            ), (name, value)
        elif kind == "choice":
            assert isinstance(value, str) and value, (name, value)
        else:
            assert value is None or (isinstance(value, str) and value.strip()), (name, value)


def _settings(platform: str, places: Places, env: dict[str, str] | None = None) -> Settings | ConfigError:
    result = outcome(lambda: load_settings(platform, env or {}, {}, places), ConfigError)
    if isinstance(result, Settings):
        _assert_well_typed(result)
    else:
        assert isinstance(result, ConfigError)
        assert result.message
    return result


def _nowhere(tmp_path: Path) -> Places:
    return Places(machine=str(tmp_path / "absent-machine.toml"), user=None, managed=None)


# TOML: the reader against tomllib ----------------------------------------------------------------------------

_TOML_SCALAR = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.integers(4290, 4310).map(lambda digits: "9" * digits),  # around int()'s 4300-digit limit
    st.integers(1, 5000).map(lambda digits: "1" + "_0" * digits),
    st.sampled_from(["true", "false", "inf", "nan", "1e400", "0x" + "f" * 5000, "1979-05-27", "07:32:00"]),
    st.text(max_size=10).map(lambda text: '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.sampled_from(['"\\u001b[2J"', '"\\u202e"', "'\x1b'", '"\x7f"', '"""\n\x00"""', "'''\r'''", '"\\U0010ffff"']),
)


@st.composite
def _toml_value(draw: st.DrawFn) -> str:
    value = draw(_TOML_SCALAR)
    for _ in range(draw(st.integers(0, 3))):
        value = draw(st.sampled_from(["[{}]", "[{}, {}]", "{{a = {}}}", "[1, {}]"])).format(value, value)
    depth = draw(st.sampled_from([0, 0, 0, 10, 300, 1000, 3000]))
    opening, closing = draw(st.sampled_from([("[", "]"), ("{a = ", "}"), ("[{a = ", "}]")]))
    return opening * depth + value + closing * depth


_TOML_LINE = st.one_of(
    st.tuples(st.sampled_from(["a", "b", '"c"', "d.e", "rules"]), _toml_value()).map(" = ".join),
    st.sampled_from(["[rules]", "[report]", "[[t]]", "[a.b]", "# comment \x1b", "", "\r"]),
    st.integers(1, 300).map(lambda depth: "[" + ".".join(["t"] * depth) + "]"),
)


@FUZZ
@given(st.lists(_TOML_LINE, max_size=6).map("\n".join))
def test_the_toml_reader_agrees_with_tomllib_or_refuses_with_its_error(text: str):
    result = outcome(lambda: parse(text), TomlError)
    try:
        expected: Any = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):
        assert isinstance(result, TomlError), f"read {text[:80]!r}… that tomllib cannot"
        assert str(result) and "\n" not in str(result)
        return
    assert _same(result, expected)


def _same(mine: Any, theirs: Any) -> bool:
    """Equal, with nan equal to nan (TOML has nan; Python's == says nan != nan). Walked with a stack, not
    by recursion: what tomllib reads can be nested deeper than Python recurses."""
    stack = [(mine, theirs)]
    while stack:
        a, b = stack.pop()
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            if list(a) != list(b):
                return False
            stack.extend((a[key], b[key]) for key in a)
        elif isinstance(a, list):
            if len(a) != len(b):
                return False
            stack.extend(zip(a, b, strict=True))
        elif not (a == b or (isinstance(a, float) and a != a and b != b)):
            return False
    return True


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a = " + "[" * 100_000 + "]" * 100_000, id="arrays-100000-deep"),
        pytest.param("a = " + "{b = " * 100_000 + "1" + "}" * 100_000, id="inline-tables-100000-deep"),
        pytest.param("a = " + "9" * 5000, id="5000-digit-integer"),
        pytest.param("[[a]]\nb = " + "9" * 5000, id="5000-digit-integer-outside-the-fast-subset"),
        pytest.param("a = -" + "9" * 4301, id="negative-4301-digit-integer"),
    ],
)
def test_toml_that_python_cannot_hold_is_a_toml_error(text: str):
    assert isinstance(outcome(lambda: parse(text), TomlError), TomlError)


def test_a_table_100000_levels_deep_is_read_and_refused_as_configuration(tmp_path: Path):
    text = "[" + ".".join(["rules"] * 100_000) + "]\n"
    document = outcome(lambda: parse(text), TomlError)
    assert isinstance(document, dict)  # dotted headers are read without recursion, by tomllib too
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    result = _settings("linux", Places(machine=str(path), user=None, managed=None))
    assert isinstance(result, ConfigError)
    assert "unknown setting (settings are two levels deep)" in result.message


@pytest.mark.parametrize(
    ("shape", "size"),
    [
        pytest.param(lambda n: "".join(f"k{i} = {i}\n" for i in range(n)), 5000, id="many-keys"),
        pytest.param(lambda n: "".join(f"[t{i}]\nk = 1\n" for i in range(n)), 2000, id="many-tables"),
        pytest.param(lambda n: 'a = "' + "\\u00e9" * n + '"\n', 4000, id="long-escaped-string"),
        pytest.param(lambda n: "a = [" + "1, " * n + "]\n", 4000, id="long-array"),
        pytest.param(lambda n: "[[t]]\na = 1\n" * n, 1000, id="many-array-tables"),
    ],
)
def test_toml_memory_grows_with_the_file_not_faster(shape, size: int):
    grows_linearly(shape, parse, size, TomlError)


# Configuration files, variables, plists and policies ------------------------------------------------------

_HOSTILE_TEXT = st.sampled_from(
    [
        "9" * 5000,
        "99999999999999999999d",
        "-1",
        "1e9",
        "\x1b[2J",
        "\u202e",
        "  ",
        "json:",
        "json:/x; ;csv:/y",
        "nagios:/dev/null;bogus:/x",
        "true",
        "YES",
        "0",
        "4h",
        "1 d",
        "١٢",
        "hide",
        "tilde",
        "html",
    ]
)
_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
    | _HOSTILE_TEXT,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4) | _HOSTILE_TEXT, children, max_size=2)
    ),
    max_leaves=5,
)


def _toml(value: Any) -> str | None:
    """``value`` as TOML, or None for what TOML cannot hold (null, mixed nesting we do not write)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in value) + '"'
    if isinstance(value, list):
        items = [_toml(item) for item in value]
        return None if None in items else "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
    if isinstance(value, dict):
        pairs = [(key, _toml(item)) for key, item in value.items()]
        if any(item is None for _, item in pairs):
            return None
        return "{" + ", ".join(f"{_toml(str(key))} = {item}" for key, item in pairs) + "}"
    return None


@st.composite
def _document(draw: st.DrawFn) -> dict[str, Any]:
    """Settings by dotted name (and a few unknown ones), with values of any kind."""
    names = draw(st.lists(st.sampled_from([*SETTINGS, "rules.minimun", "login", "x"]), max_size=5, unique=True))
    return {name: draw(_VALUE) for name in names}


def _nested(document: dict[str, Any]) -> dict[str, Any]:
    """``{"rules.source": v}`` as a file writes it: ``{"rules": {"source": v}}``."""
    nested: dict[str, Any] = {}
    for name, value in document.items():
        section, dot, key = name.partition(".")
        if dot and isinstance(nested.setdefault(section, {}), dict):
            nested[section][key] = value
        else:
            nested[name] = value
    return nested


@FUZZ
@given(_document())
def test_a_hostile_config_toml_gives_settings_or_one_error(tmp_path_factory: pytest.TempPathFactory, document):
    folder = tmp_path_factory.mktemp("toml")
    written = {key: text for key, value in _nested(document).items() if (text := _toml(value))}
    lines = [f"{_toml(key)} = {text}" for key, text in written.items()]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _settings("linux", Places(machine=str(path), user=None, managed=None))
    if isinstance(result, Settings):  # what it accepted, it read as written
        for name, value in document.items():
            if name.partition(".")[0] not in written and name not in written:
                continue  # its section holds what TOML cannot (a null): the file left it out
            if name in SETTINGS and isinstance(value, bool) and KINDS.get(name) == "bool":
                assert result[name] is value


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from([n.replace(".", "_").upper() for n in SETTINGS] + ["RULES_SOURCES"]),
        _HOSTILE_TEXT | st.text(max_size=8),
    )
)
def test_hostile_environment_variables_give_settings_or_one_error(tmp_path_factory, variables: dict[str, str]):
    env = {f"CLIENTCHECK_{name}": value for name, value in variables.items()}
    env = {name: value.replace("\x00", "") for name, value in env.items()}  # no environment holds a NUL
    _settings("linux", _nowhere(tmp_path_factory.mktemp("env")), env)


@FUZZ_FEW
@given(_document(), st.sampled_from([plistlib.FMT_XML, plistlib.FMT_BINARY]), st.booleans())
def test_a_hostile_managed_plist_gives_settings_or_one_error(tmp_path_factory, document, fmt, nested: bool):
    path = tmp_path_factory.mktemp("plist") / "org.clientcheck.agent.plist"
    payload = _nested(document) if nested else document
    try:
        data = plistlib.dumps(_plist_safe(payload), fmt=fmt)
    except (TypeError, OverflowError, ValueError):
        return  # not something a plist can hold
    path.write_bytes(data)
    _settings("macos", Places(machine=None, user=None, managed=str(path)))


def _plist_safe(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return [_plist_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plist_safe(item) for key, item in value.items()}
    return value


@FUZZ
@given(
    st.binary(max_size=40),
    st.integers(0, 400),
    st.sampled_from(
        [plistlib.dumps({"rules": {"source": "x"}, "login.delay": 5}, fmt=f) for f in plistlib.PlistFormat]
    ),
)
def test_damaged_managed_plist_bytes_give_settings_or_one_error(tmp_path_factory, noise: bytes, at: int, data: bytes):
    path = tmp_path_factory.mktemp("plist") / "org.clientcheck.agent.plist"
    path.write_bytes(data[:at] + noise + data[at + len(noise) :])
    _settings("macos", Places(machine=None, user=None, managed=str(path)))


def _binary_plist(objects: list[bytes]) -> bytes:
    """A binary plist of these encoded objects, the first the top one, references one byte wide."""
    out = bytearray(b"bplist00")
    offsets = []
    for encoded in objects:
        offsets.append(len(out))
        out += encoded
    table = len(out)
    width = 1 if table < 256 else 2
    for offset in offsets:
        out += offset.to_bytes(width, "big")
    return bytes(out + bytes(6) + bytes([width, 1]) + struct.pack(">QQQ", len(objects), 0, table))


def _ascii(text: str) -> bytes:
    return bytes([0x50 | len(text)]) + text.encode()


# Binary plists hold what XML cannot say: a dictionary key that is a number, and the same object referenced
# twice (so 40 levels of pairs of references are 2**40 leaves for anything that walks them as a tree).
CRAFTED = {
    "number-as-key": _binary_plist([bytes([0xD1, 1, 2]), bytes([0x10, 7]), _ascii("x")]),
    "date-as-key": _binary_plist([bytes([0xD1, 1, 2]), b"\x33" + struct.pack(">d", 0.0), _ascii("x")]),
    "shared-references-40-deep": _binary_plist(
        [bytes([0xD1, 1, 2]), _ascii("report"), bytes([0xD1, 3, 4]), _ascii("format")]
        + [bytes([0xA2, 5 + level, 5 + level]) for level in range(40)]
        + [_ascii("x")]
    ),
    "shared-references-as-a-setting": _binary_plist(
        [bytes([0xD1, 1, 2]), _ascii("login.delay")]
        + [bytes([0xA2, 3 + level, 3 + level]) for level in range(40)]
        + [_ascii("x")]
    ),
    "a-dictionary-holding-itself": _binary_plist([bytes([0xD1, 1, 0]), _ascii("rules")]),
}


@pytest.mark.parametrize("name", [name for name in CRAFTED if name != "a-dictionary-holding-itself"])
def test_crafted_binary_plists_give_one_error(tmp_path: Path, name: str):
    path = tmp_path / "org.clientcheck.agent.plist"
    path.write_bytes(CRAFTED[name])
    result = _settings("macos", Places(machine=None, user=None, managed=str(path)))
    assert isinstance(result, ConfigError)
    assert len(result.message) < 1000


def test_a_policy_dictionary_holding_itself_is_one_ignored_setting(tmp_path: Path):
    # {"rules": <itself>}: the section holds a table, not a value, which managed policy treats as a setting
    # a newer version may have (a warning, not exit 78); the loop is never walked.
    path = tmp_path / "org.clientcheck.agent.plist"
    path.write_bytes(CRAFTED["a-dictionary-holding-itself"])
    result = _settings("macos", Places(machine=None, user=None, managed=str(path)))
    assert isinstance(result, Settings)
    assert result.notes == [
        f"{path}: rules.rules: unknown setting (settings are two levels deep): ignored by clientcheck "
        f"{clientcheck.__version__}, which does not have it (a newer version's policy?)"
    ]
    assert result.origins["rules.source"].level == "default"


def _policy(values: list[str]) -> ExportedRegistry:
    text = "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\clientcheck\\login]\n"
    text += "\n".join(values) + "\n"
    return ExportedRegistry(parse_reg(b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le")))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        pytest.param("config.toml", "[login]\nhistory = 0x" + "f" * 5000 + "\n", id="toml-hexadecimal-of-5000-digits"),
        pytest.param(
            "config.toml", '[login]\ndelay = "999999999999999999d"\n', id="toml-duration-of-18-digits-of-days"
        ),
        pytest.param("config.toml", "[login]\ninterval = 1000000000000000000\n", id="toml-integer-of-19-digits"),
    ],
)
def test_a_count_or_duration_no_one_means_is_one_error(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = _settings("linux", Places(machine=str(path), user=None, managed=None))
    assert isinstance(result, ConfigError)
    assert ": at most " in result.message  # each count and duration says its maximum


def test_a_plist_integer_of_128_bits_is_one_error(tmp_path: Path):
    path = tmp_path / "org.clientcheck.agent.plist"
    path.write_bytes(plistlib.dumps({"login": {"delay": 2**64 - 1}}, fmt=plistlib.FMT_BINARY))
    result = _settings("macos", Places(machine=None, user=None, managed=str(path)))
    assert isinstance(result, ConfigError)
    assert ": at most " in result.message  # each count and duration says its maximum


_POLICY_VALUE = st.tuples(
    st.sampled_from(["delay", "interval", "notify", "history", "dealy", ""]),
    st.one_of(
        st.integers(0, 2**32 - 1).map(lambda n: f"dword:{n:08x}"),
        st.integers(0, 2**64 - 1).map(lambda n: "hex(b):" + ",".join(f"{b:02x}" for b in n.to_bytes(8, "little"))),
        (
            _HOSTILE_TEXT
            | st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=6)
        ).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
        st.binary(max_size=6).map(lambda raw: "hex:" + ",".join(f"{b:02x}" for b in raw) if raw else "hex:00"),
        st.just("hex(7):61,00,00,00,00,00"),
    ),
).map(lambda pair: (f'"{pair[0]}"' if pair[0] else "@") + "=" + pair[1])


@FUZZ
@given(st.lists(_POLICY_VALUE, max_size=4))
def test_hostile_group_policy_values_give_settings_or_one_error(tmp_path_factory, values: list[str]):
    places = _nowhere(tmp_path_factory.mktemp("policy")).replace(registry=_policy(values))
    _settings("windows", places)
