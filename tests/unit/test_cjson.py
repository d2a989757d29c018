"""clientcheck.cjson reads and writes JSON exactly as the json package does (values, text and errors),
without importing it."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientcheck import cjson

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and the infinities too: json writes them, and reads them back
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=25,
)
# Text near JSON, so most of it fails somewhere interesting: in a string, a number, between values.
NEAR_JSON = st.text(alphabet=st.sampled_from(list('{}[]":,-+.eE0123456789 \t\n\r\\/ubnrtfalsenulNIinfy\ufeff\x00é')))


def _outcome(read, text: str) -> tuple:
    try:
        return ("value", json.dumps(read(text), sort_keys=True))  # NaN is not equal to itself: compare text
    except json.JSONDecodeError as error:
        return ("JSONDecodeError", error.msg, error.pos, error.lineno, error.colno)
    except (ValueError, RecursionError) as error:
        return (type(error).__name__, str(error))


@given(VALUES)
def test_writes_what_json_writes(value):
    assert cjson.dumps_compact(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@given(VALUES, st.sampled_from([None, 0, 2]))
def test_reads_back_what_json_reads(value, indent):
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    assert _outcome(cjson.loads, text) == _outcome(json.loads, text)


@given(NEAR_JSON)
def test_fails_where_json_fails_with_the_same_error(text):
    assert _outcome(cjson.loads, text) == _outcome(json.loads, text)


@pytest.mark.parametrize(
    "text",
    ["", "  ", "{", '{"a" 1}', "[1,]", "[1] x", '"abc', "\ufeff{}", "nul", "-", "[" * 100_000, "1" * 5000],
)
def test_known_bad_documents(text):
    assert _outcome(cjson.loads, text) == _outcome(json.loads, text)


def test_the_hooks_are_called_as_json_calls_them():
    pairs: list = []

    def keep(items):
        pairs.append(items)
        return dict(items)

    assert cjson.loads('{"a": {"b": 1}, "a": 2}', object_pairs_hook=keep) == {"a": 2}
    assert pairs == [[("b", 1)], [("a", {"b": 1}), ("a", 2)]]

    def refuse(name: str):
        raise ValueError(f"{name} is not a JSON value")

    with pytest.raises(ValueError, match=r"^NaN is not a JSON value$"):
        cjson.loads("[1, NaN]", parse_constant=refuse)
    assert math.isinf(cjson.loads("-Infinity"))


def test_what_cannot_be_written_is_refused_as_json_refuses_it():
    for value in ({"a": object()}, {"a": {1, 2}}):
        with pytest.raises(TypeError) as ours:
            cjson.dumps_compact(value)
        with pytest.raises(TypeError) as theirs:
            json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        assert str(ours.value) == str(theirs.value)
    circular: list = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular reference detected"):
        cjson.dumps_compact(circular)


def test_without_json_imported_good_documents_never_import_it_and_bad_ones_get_its_errors():
    # In a fresh interpreter: before Python 3.12 the C scanner can raise JSONDecodeError only once
    # json.decoder is imported, which cjson does for a bad document only.
    code = (
        "import sys\n"
        "from clientcheck import cjson\n"
        'value = cjson.loads(\'{"a": [1, 2.5, "\\\\u00e9", null, true]}\')\n'
        "text = cjson.dumps_compact(value)\n"
        "print(sorted(name for name in ('json', 're', 'enum', 'functools') if name in sys.modules))\n"
        "print(text)\n"
        "for bad in ('{\"a\" 1}', '[1,', '\"abc', '[1] x'):\n"
        "    try:\n"
        "        cjson.loads(bad)\n"
        "    except ValueError as error:\n"
        "        print(type(error).__name__, error)\n"
    )
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "[]"
    assert lines[1] == '{"a":[1,2.5,"é",null,true]}'
    expected = []
    for bad in ('{"a" 1}', "[1,", '"abc', "[1] x"):
        try:
            json.loads(bad)
        except json.JSONDecodeError as error:
            expected.append(f"JSONDecodeError {error}")
    assert lines[2:] == expected
