"""Hostile rule files: ``parse_rules`` returns a RuleSet or raises ``InvalidRuleFileError`` listing problems,
each one line a terminal shows as it is; it ends, its memory grows with the file, and the same document
written another way (key order, indentation, escapes, a byte-order mark) gets the same answer."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hostile_limits import FUZZ, grows_linearly, outcome
from hypothesis import given
from hypothesis import strategies as st

from clientcheck.model import RuleSet
from clientcheck.rules import InvalidRuleFileError, parse_rules

REPO = Path(__file__).resolve().parents[2]
DESIGN_EXAMPLE = (REPO / "rules" / "examples" / "design-example.json").read_bytes()
BUNDLED = (REPO / "agent" / "clientcheck" / "data" / "default-rules.json").read_bytes()


def _parse(data: bytes) -> RuleSet | InvalidRuleFileError:
    result = outcome(lambda: parse_rules(data), InvalidRuleFileError)
    assert isinstance(result, (RuleSet, InvalidRuleFileError))
    if isinstance(result, InvalidRuleFileError):
        assert result.problems, "a rejected file names at least one problem"
        for problem in result.problems:
            _assert_shows_as_it_is(problem)
    return result


def _assert_shows_as_it_is(problem: str) -> None:
    """One line, and nothing a terminal would act on rather than show: C0 and C1 controls, DEL, and the
    bidi embedding, override and isolate controls, which a hostile file could use to rewrite what
    ``rules validate`` prints about it."""
    hidden = [
        char
        for char in problem
        if ord(char) < 0x20
        or 0x7F <= ord(char) <= 0x9F
        or 0x202A <= ord(char) <= 0x202E
        or 0x2066 <= ord(char) <= 0x2069
    ]
    assert not hidden, f"{problem!r} carries {hidden!r} as is"
    assert problem.strip() == problem and problem


# Documents that are almost valid: the design example with a few things changed ----------------------------

_HOSTILE_TEXT = st.sampled_from(
    [
        "\x1b[2J\x1b]0;owned\x07",
        "\u202eevil\u202c",
        "\r",
        "\x85",
        "\ud800",
        "a\nb",
        "\x00",
        "x" * 300,
        "1" * 5000,
        "\u2066",
        "\u200f",
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | _HOSTILE_TEXT
    | st.sampled_from(
        ["153.6", "1..2", "10.0.26200", "2026-11-20", "2026-02-30", "9999-12-31", "https://a.invalid/", "linux", "en"]
    )
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4) | _HOSTILE_TEXT, children, max_size=3)
    ),
    max_leaves=6,
)
_KEYS = (
    st.sampled_from(
        [
            "schema",
            "publisher",
            "serial",
            "published",
            "expires",
            "rules",
            "url",
            "id",
            "product",
            "track",
            "platforms",
            "minimum",
            "severity",
            "grace",
            "since",
            "days",
            "unsupported",
            "below",
            "message",
            "en",
            "de",
            "pt-BR",
            "source",
            "note",
            "comment",
            "x-extra",
            "minimun",
        ]
    )
    | _HOSTILE_TEXT
)


def _containers(value: Any) -> list[Any]:
    """Every object and list inside ``value``, itself first."""
    found: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            found.append(item)
            stack.extend(item.values() if isinstance(item, dict) else item)
    return found


@st.composite
def almost_valid(draw: st.DrawFn) -> Any:
    """The design example (or the bundled rules) with one to four edits anywhere in it, at any depth: a
    value replaced, a key removed or added, an item appended or removed, the whole thing wrapped."""
    document = json.loads(draw(st.sampled_from([DESIGN_EXAMPLE, BUNDLED])))
    for _ in range(draw(st.integers(1, 4))):
        targets = _containers(document)
        target = targets[draw(st.integers(0, len(targets) - 1))]
        action = draw(st.sampled_from(["replace", "remove", "add", "copy"]))
        if isinstance(target, dict):
            if action == "add" or not target:
                target[draw(_KEYS)] = draw(_JSON)
            elif action == "remove":
                del target[draw(st.sampled_from(sorted(target)))]
            elif action == "copy":  # a sibling's value under this key: right shape, wrong place
                key = draw(st.sampled_from(sorted(target)))
                target[key] = copy.deepcopy(target[draw(st.sampled_from(sorted(target)))])
            else:
                target[draw(st.sampled_from(sorted(target)))] = draw(_JSON)
        elif action == "add" or not target:
            target.append(copy.deepcopy(target[0]) if target and draw(st.booleans()) else draw(_JSON))
        elif action == "remove":
            del target[draw(st.integers(0, len(target) - 1))]
        else:
            target[draw(st.integers(0, len(target) - 1))] = draw(_JSON)
    if draw(st.integers(0, 20)) == 0:
        document = [document]
    return document


def _spellings(document: Any, seed: int) -> list[bytes]:
    """The same document written as different tools write it."""
    shuffled = _shuffled(document, random.Random(seed))  # noqa: S311 - a reproducible order, not a secret
    return [
        json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass"),
        json.dumps(document, ensure_ascii=True, indent=2).encode(),
        b"\xef\xbb\xbf"
        + json.dumps(shuffled, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"),
        json.dumps(shuffled, indent="\t").encode() + b"\r\n",
    ]


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: _shuffled(item, rng) for key, item in items}
    if isinstance(value, list):
        return [_shuffled(item, rng) for item in value]
    return value


def _answer(result: RuleSet | InvalidRuleFileError) -> object:
    """What must not depend on how the document is written: the rules (a message's languages in any
    order: they keep the file's), or where each problem is (a problem quotes a wrong value as written)."""
    if isinstance(result, InvalidRuleFileError):
        return sorted(problem.partition(": ")[0] for problem in result.problems)

    def same_order(rule: Any) -> Any:
        unsupported = rule.unsupported
        if unsupported is not None:
            unsupported = unsupported.replace(message=tuple(sorted(unsupported.message)))
        return rule.replace(message=tuple(sorted(rule.message)), unsupported=unsupported)

    return result.replace(rules=tuple(same_order(rule) for rule in result.rules))


@FUZZ
@given(almost_valid(), st.integers(0, 2**32))
def test_an_almost_valid_document_gets_one_answer_however_it_is_written(document: Any, seed: int):
    answers = []
    for data in _spellings(document, seed):
        result = _parse(data)
        if isinstance(result, InvalidRuleFileError) and result.problems[0].startswith("byte "):
            # A lone surrogate written raw is not UTF-8: only the \\u escapes of the ASCII spelling reach
            # the validator.
            continue
        answers.append(_answer(result))
    assert answers
    assert all(answer == answers[0] for answer in answers), answers


@FUZZ
@given(almost_valid())
def test_an_accepted_document_is_read_as_written(document: Any):
    result = _parse(json.dumps(document, ensure_ascii=True).encode())
    if not isinstance(result, RuleSet):
        return
    assert isinstance(document, dict)
    assert (result.publisher, result.serial) == (document["publisher"], document["serial"])
    assert [rule.id for rule in result.rules] == [rule["id"] for rule in document["rules"]]
    for rule, written in zip(result.rules, document["rules"], strict=True):
        products = written["product"]
        assert rule.products == ((products,) if isinstance(products, str) else tuple(products))
        assert (str(rule.minimum) if rule.minimum else None) == (
            str(type(rule.minimum)(written["minimum"])) if "minimum" in written else None
        )
        assert rule.severity == written.get("severity", "required")


# Bytes: the real files cut, flipped and spliced -----------------------------------------------------------


@pytest.mark.parametrize("original", [DESIGN_EXAMPLE, BUNDLED], ids=["design-example", "bundled"])
def test_a_rule_file_cut_short_is_never_accepted(original: bytes):
    content_end = len(original.rstrip())
    for end in range(0, content_end, 1 if len(original) < 2000 else 7):
        result = _parse(original[:end])
        assert isinstance(result, InvalidRuleFileError), f"accepted when cut after {end} bytes"


@FUZZ
@given(
    st.sampled_from([DESIGN_EXAMPLE, BUNDLED]),
    st.lists(st.tuples(st.floats(0, 1), st.sampled_from(["flip", "drop", "insert", "splice"]), st.binary(max_size=6))),
)
def test_damaged_bytes_of_a_real_file_are_read_or_refused(original: bytes, edits: list[tuple[float, str, bytes]]):
    data = bytearray(original)
    for where, how, extra in edits:
        at = int(where * (len(data) - 1)) if data else 0
        if how == "flip" and data:
            data[at] ^= extra[0] if extra else 0x80
        elif how == "drop":
            del data[at : at + len(extra) + 1]
        elif how == "insert":
            data[at:at] = extra
        else:
            data[at:at] = original[: len(extra) * 11]
    _parse(bytes(data))


# Growth ---------------------------------------------------------------------------------------------------


def _many_rules(count: int) -> bytes:
    document = json.loads(DESIGN_EXAMPLE)
    document["rules"] = [dict(document["rules"][i % 8], id=f"r{i}") for i in range(count)]
    return json.dumps(document).encode()


def _many_broken_rules(count: int) -> bytes:
    document = json.loads(DESIGN_EXAMPLE)
    document["rules"] = [{"id": f"R {i}", "minimum": "1..2", "product": [], "x": 1} for i in range(count)]
    return json.dumps(document).encode()


def _deep(depth: int) -> bytes:
    return DESIGN_EXAMPLE.replace(b'"publisher"', b'"x-deep": ' + b"[" * depth + b"]" * depth + b', "publisher"', 1)


GROWING = {
    "many-rules": (_many_rules, 500),
    "many-broken-rules": (_many_broken_rules, 500),
    "deep-nesting": (_deep, 20_000),
    "long-message": (lambda n: DESIGN_EXAMPLE.replace(b"Update Firefox ESR", b"\\u202e" * n), 20_000),
    "many-unknown-keys": (
        lambda n: DESIGN_EXAMPLE.replace(b"{\n", b"{" + b"".join(b'"k%d": 0, ' % i for i in range(n)), 1),
        2000,
    ),
}


@pytest.mark.parametrize("shape", GROWING, ids=list(GROWING))
def test_memory_grows_with_the_file_not_faster(shape: str):
    make, size = GROWING[shape]
    grows_linearly(make, _parse, size)
