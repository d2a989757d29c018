"""The fast TOML reader agrees with tomllib on every document it reads, and leaves the rest to tomllib."""

from __future__ import annotations

import pytest
import tomllib
from hypothesis import given, settings
from hypothesis import strategies as st

from clientcheck.tomlread import TomlError, fast_parse, parse

CONFIG = """\
# clientcheck configuration pushed by IT
[rules]
source = "https://rules.example.com/v1/rules.json"   # the published rules
key = 'RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3'

[report]
format = "json"
language = "pt-BR"
sinks = [ "json:/var/lib/clientcheck/report.json", "prometheus:/var/lib/node_exporter/textfile/cc.prom", ]

[login]
delay = 30
interval = "4h"
notify = false
history = 1_000
"""


def test_a_typical_configuration_is_read_without_tomllib():
    assert fast_parse(CONFIG) == tomllib.loads(CONFIG)
    assert fast_parse(CONFIG.replace("\n", "\r\n")) == tomllib.loads(CONFIG)


@pytest.mark.parametrize(
    "text",
    [
        'a = "x"\nb = """multi\nline"""\n',
        "a = 1.5\n",
        "a = 1979-05-27\n",
        "a = 0x1f\n",
        "a = inf\n",
        'a.b = "dotted key"\n',
        '"quoted" = 1\n',
        "a = {b = 1}\n",
        "[[sinks]]\nformat = 'json'\n",
        'a = [\n  "multi-line array",\n]\n',
        'a = [1, "mixed"]\n',
        "a = [[1], [2]]\n",
    ],
)
def test_valid_toml_outside_the_subset_is_read_by_tomllib(text: str):
    assert fast_parse(text) is None
    assert parse(text) == tomllib.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        "a = 1\na = 2\n",
        "[a]\n[a]\n",
        "a = 01\n",
        "a = 1__0\n",
        "a = _1\n",
        'a = "x" "y"\n',
        'a = "bad \\q escape"\n',
        'a = "\x01"\n',
        "a = 1 # \x00\n",
        "a = \n",
        "= 1\n",
        "[a]\nb = 1\n[a.b]\n",
        "a = [1,,2]\n",
        "a = true1\n",
        '\ufeffa = "bom"\n',
    ],
)
def test_what_is_not_toml_gets_tomllibs_error(text: str):
    assert fast_parse(text) is None
    with pytest.raises(TomlError, match=r"line \d+, column \d+|Invalid|Expected|Cannot"):
        parse(text)


# Documents built from the subset's pieces, with hostile characters in strings and comments.
_KEY = st.text(alphabet="abcXYZ019_-", min_size=1, max_size=6)
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def _basic(text: str) -> str:
    escapes = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}
    return '"' + "".join(escapes.get(c, f"\\u{ord(c):04x}" if ord(c) < 32 or ord(c) == 127 else c) for c in text) + '"'


_SCALAR = st.one_of(
    _TEXT.map(_basic),
    _TEXT.filter(lambda t: "'" not in t and "\n" not in t and "\r" not in t).map(lambda t: f"'{t}'"),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.sampled_from(["true", "false", "+7", "-0", "1_000", "0"]),
)
_VALUE = st.one_of(
    _SCALAR,
    st.lists(st.integers(0, 99).map(str), max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
    st.lists(_TEXT.map(_basic), max_size=3).map(lambda items: "[" + ",".join(items) + ",]"),
)
_LINE = st.one_of(
    st.tuples(_KEY, st.sampled_from([" = ", "=", "\t=  "]), _VALUE, st.sampled_from(["", "  # note", "#"])).map(
        "".join
    ),
    _KEY.map(lambda key: f"[{key}]"),
    st.tuples(_KEY, _KEY).map(lambda keys: f"[ {keys[0]} . {keys[1]} ]"),
    _TEXT.filter(lambda t: "\n" not in t and "\r" not in t).map(lambda t: "# " + t),
    st.just(""),
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_LINE, max_size=12))
def test_the_fast_reader_never_disagrees_with_tomllib(lines: list[str]):
    text = "\n".join(lines) + "\n"
    fast = fast_parse(text)
    try:
        expected = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        assert fast is None  # it may not accept what is not TOML
        return
    if fast is not None:
        assert fast == expected


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab=[]\"'#.,_- \t\n\r01tf\\u\x00é")), max_size=40))
def test_on_arbitrary_text_the_fast_reader_only_accepts_what_tomllib_reads_the_same(text: str):
    fast = fast_parse(text)
    if fast is None:
        return
    assert fast == tomllib.loads(text)
