"""The published JSON Schema of the rule file agrees with the agent's validator, so they cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import rule_edits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from clientcheck.rules import InvalidRuleFileError, parse_rules
from clientcheck.version import Version, VersionError

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "agent" / "clientcheck" / "data" / "rules.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
# With a format checker, "format": "date" rejects impossible dates (2026-02-30) as the agent does.
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
EXAMPLES = sorted((REPO / "rules" / "examples").glob("*.json"))


def design_example() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((REPO / "rules" / "examples" / "design-example.json").read_text("utf-8"))
    return document


def schema_accepts(document: Any) -> bool:
    return VALIDATOR.is_valid(document)


def agent_problems(document: Any) -> list[str]:
    try:
        parse_rules(json.dumps(document, ensure_ascii=False).encode("utf-8"))
    except InvalidRuleFileError as invalid:
        return invalid.problems
    return []


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == "https://clientcheck.invalid/schemas/rules-1.json"
    assert SCHEMA["properties"]["schema"] == {"const": "clientcheck.rules/1"}


def test_every_pattern_compiles() -> None:
    patterns: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern":
                    patterns.append(value)
                elif key == "patternProperties":
                    patterns.extend(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(SCHEMA)
    assert len(patterns) > 5
    for pattern in patterns:
        re.compile(pattern)


@pytest.mark.parametrize(
    "path",
    [pytest.param(REPO / "agent" / "clientcheck" / "data" / "default-rules.json", id="bundled-default")]
    + [pytest.param(path, id=path.stem) for path in EXAMPLES],
)
def test_shipped_rule_files_validate(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in VALIDATOR.iter_errors(document)
    ]
    assert errors == []
    parse_rules(path.read_bytes())


def test_design_example_is_among_the_examples() -> None:
    assert REPO / "rules" / "examples" / "design-example.json" in EXAMPLES


def test_every_rule_key_the_agent_knows_is_in_the_schema() -> None:
    from clientcheck.rules import validate

    assert set(SCHEMA["properties"]) == validate._TOP_KEYS | {validate.STEPS_KEY}
    rule = SCHEMA["$defs"]["rule"]
    assert set(rule["properties"]) == validate._RULE_KEYS | {validate.STEPS_KEY}
    steps = SCHEMA["$defs"]["steps"]
    assert set(steps["items"]["properties"]) == validate._STEP_KEYS
    assert steps["items"]["properties"]["level"]["enum"] == list(validate.STEP_LEVELS)
    assert steps["maxItems"] == validate.MAX_STEPS
    assert set(rule["properties"]["grace"]["properties"]) == validate._GRACE_KEYS
    assert set(rule["properties"]["unsupported"]["properties"]) == validate._UNSUPPORTED_KEYS
    assert set(rule["properties"]["source"]["oneOf"][1]["properties"]) == validate._SOURCE_KEYS
    assert rule["properties"]["platforms"]["items"]["enum"] == list(validate.PLATFORMS)
    assert SCHEMA["properties"]["rules"]["maxItems"] == validate.MAX_RULES


# Broken documents: both reject -------------------------------------------------------------------------

Edit = rule_edits.Edit
_set = rule_edits.set_at
_delete = rule_edits.delete_at


BROKEN = [
    pytest.param(_delete("schema"), id="schema-missing"),
    pytest.param(_set("schema", "clientcheck.rules/2"), id="schema-wrong"),
    pytest.param(_delete("publisher"), id="publisher-missing"),
    pytest.param(_set("publisher", " \t"), id="publisher-blank"),
    pytest.param(_set("publisher", None), id="publisher-null"),
    pytest.param(_delete("serial"), id="serial-missing"),
    pytest.param(_set("serial", -1), id="serial-negative"),
    pytest.param(_set("serial", "7"), id="serial-string"),
    pytest.param(_set("serial", True), id="serial-boolean"),
    pytest.param(_set("serial", 7.5), id="serial-fraction"),
    pytest.param(_delete("published"), id="published-missing"),
    pytest.param(_set("published", "20.11.2026"), id="published-not-iso"),
    pytest.param(_set("published", "2026-11-20T00:00:00"), id="published-datetime"),
    pytest.param(_set("published", "2026-11-20\n"), id="published-trailing-newline"),
    pytest.param(_set("expires", "2027-02-30"), id="expires-impossible"),
    pytest.param(_set("expires", 20270228), id="expires-number"),
    pytest.param(_set("publsher", "x"), id="unknown-top-level-key"),
    pytest.param(_set("X-upper", "x"), id="uppercase-extension-prefix"),
    pytest.param(_set("url", "ftp://example.invalid/"), id="url-ftp"),
    pytest.param(_set("url", "https://"), id="url-no-host"),
    pytest.param(_set("url", "https://example.invalid/a b"), id="url-space"),
    pytest.param(_set("description", ""), id="description-empty"),
    pytest.param(_set("comment", 1), id="comment-number"),
    pytest.param(_delete("rules"), id="rules-missing"),
    pytest.param(_set("rules", {}), id="rules-object"),
    pytest.param(_set("rules.0", "firefox"), id="rule-string"),
    pytest.param(_set("rules.0", None), id="rule-null"),
    pytest.param(_delete("rules.1.id"), id="rule-id-missing"),
    pytest.param(_set("rules.1.id", "Firefox"), id="rule-id-uppercase"),
    pytest.param(_set("rules.1.id", "-firefox"), id="rule-id-leading-dash"),
    pytest.param(_set("rules.1.id", "f" * 65), id="rule-id-too-long"),
    pytest.param(_set("rules.1.id", "firefox\n"), id="rule-id-trailing-newline"),
    pytest.param(_delete("rules.1.product"), id="product-missing"),
    pytest.param(_set("rules.1.product", "Fire Fox"), id="product-invalid"),
    pytest.param(_set("rules.1.product", ""), id="product-empty"),
    pytest.param(_set("rules.2.product", []), id="product-empty-list"),
    pytest.param(_set("rules.2.product", ["chrome", 7]), id="product-list-number"),
    pytest.param(_set("rules.2.product", {"chrome": True}), id="product-object"),
    pytest.param(_set("rules.3.minimum", "1..2"), id="minimum-1..2"),
    pytest.param(_set("rules.1.minimum", 150), id="minimum-number"),
    pytest.param(_set("rules.1.minimum", "22H2"), id="minimum-22H2"),
    pytest.param(_set("rules.1.minimum", "1:1snap1-0ubuntu5"), id="minimum-snap-stub"),
    pytest.param(_set("rules.1.minimum", "1.0 (Official Build)"), id="minimum-words-in-parentheses"),
    pytest.param(_set("rules.1.minimum", "1" * 19), id="minimum-19-digits"),
    pytest.param(_set("rules.1.minimum", "1." * 100 + "1"), id="minimum-201-characters"),
    pytest.param(_set("rules.1.minimum", "\uff11\uff15\uff10"), id="minimum-fullwidth-digits"),
    pytest.param(_set("rules.1.track", "Release"), id="track-uppercase"),
    pytest.param(_set("rules.1.track", "t" * 33), id="track-too-long"),
    pytest.param(_set("rules.7.platforms", ["Linux"]), id="platform-unknown"),
    pytest.param(_set("rules.7.platforms", []), id="platforms-empty"),
    pytest.param(_set("rules.7.platforms", "linux"), id="platforms-string"),
    pytest.param(_set("rules.5.severity", "optional"), id="severity-unknown"),
    pytest.param(_set("rules.5.severity", None), id="severity-null"),
    pytest.param(_set("rules.2.grace", 14), id="grace-number"),
    pytest.param(_delete("rules.2.grace.days"), id="grace-days-missing"),
    pytest.param(_delete("rules.2.grace.since"), id="grace-since-missing"),
    pytest.param(_set("rules.2.grace.days", -1), id="grace-days-negative"),
    pytest.param(_set("rules.2.grace.days", "14"), id="grace-days-string"),
    pytest.param(_set("rules.2.grace.until", "2026-12-02"), id="grace-unknown-key"),
    pytest.param(_set("rules.3.grace", {"since": "2026-11-18", "days": 14}), id="grace-without-minimum"),
    pytest.param(_set("rules.3.unsupported", "yes"), id="unsupported-string"),
    pytest.param(_set("rules.3.unsupported.below", "24 LTS"), id="unsupported-below-not-version"),
    pytest.param(_set("rules.3.unsupported.since", "soon"), id="unsupported-since-not-date"),
    pytest.param(_set("rules.3.unsupported.until", "2025-11-30"), id="unsupported-unknown-key"),
    pytest.param(_set("rules.3.unsupported.message", ""), id="unsupported-message-empty"),
    pytest.param(_delete("rules.6.minimum"), id="rule-checks-nothing"),
    pytest.param(_set("rules.0.message.english", "Update"), id="message-bad-tag"),
    pytest.param(_set("rules.0.message.en\n", "Update"), id="message-tag-trailing-newline"),
    pytest.param(_set("rules.0.message.de", " "), id="message-blank-translation"),
    pytest.param(_set("rules.0.message.de", 1), id="message-number-translation"),
    pytest.param(_set("rules.0.message", {}), id="message-empty-object"),
    pytest.param(_set("rules.0.message", ["Update"]), id="message-list"),
    pytest.param(_set("rules.0.url", "support.mozilla.org"), id="rule-url-no-scheme"),
    pytest.param(_set("rules.0.source", 1), id="source-number"),
    pytest.param(_set("rules.0.source", ""), id="source-empty-string"),
    pytest.param(_set("rules.0.source", {"date": "soon"}), id="source-date"),
    pytest.param(_set("rules.0.source", {"url": "mozilla.org"}), id="source-url"),
    pytest.param(_set("rules.0.source", {"by": "me"}), id="source-unknown-key"),
    pytest.param(_set("rules.1.minimun", "150.0"), id="rule-unknown-key"),
    pytest.param(_set("rules.1.comment", "  "), id="rule-comment-blank"),
    pytest.param(_set("x-clientcheck-steps", []), id="steps-empty"),
    pytest.param(_set("x-clientcheck-steps", {"days_left": 3, "level": "warning"}), id="steps-not-a-list"),
    pytest.param(_set("rules.2.x-clientcheck-steps", [{"days_left": 3, "level": "loud"}]), id="step-level-unknown"),
    pytest.param(_set("rules.2.x-clientcheck-steps", [{"days_left": 0, "level": "warning"}]), id="step-days-zero"),
    pytest.param(_set("rules.2.x-clientcheck-steps", [{"level": "warning"}]), id="step-days-missing"),
    pytest.param(_set("rules.2.x-clientcheck-steps", [{"days_left": 3, "level": "warning", "when": 1}]), id="step-key"),
    pytest.param(_set("rules.2.x-clientcheck-steps", [{"days_left": 3, "level": "notice"}] * 11), id="steps-eleven"),
]


@pytest.mark.parametrize("edit", BROKEN)
def test_broken_documents_are_rejected_by_both(edit: Edit) -> None:
    document = design_example()
    edit(document)
    assert agent_problems(document), "the agent accepted it"
    assert not schema_accepts(document), "the schema accepted it"


@pytest.mark.parametrize("document", [[], "rules", 7, None], ids=["list", "string", "number", "null"])
def test_a_file_that_is_not_an_object_is_rejected_by_both(document: Any) -> None:
    assert agent_problems(document)
    assert not schema_accepts(document)


ACCEPTED = [
    pytest.param(_set("x-generator", {"name": "rulegen"}), id="top-level-extension"),
    pytest.param(_set("rules.0.x-ticket", "IT-1"), id="rule-extension"),
    pytest.param(_set("rules.2.grace.x-why", None), id="grace-extension"),
    pytest.param(_set("rules.3.unsupported.x-eol", 1), id="unsupported-extension"),
    pytest.param(_set("rules.0.source", {"url": "https://a.invalid/", "x-by": "me"}), id="source-extension"),
    pytest.param(_set("rules.0.source", "vendor advisory"), id="source-string"),
    pytest.param(_set("rules.0.message", "Update"), id="message-string"),
    pytest.param(_set("rules.0.message.pt-BR", "Atualize"), id="message-region-tag"),
    pytest.param(_set("rules.0.message.zh_Hant_TW", "更新"), id="message-underscore-tag"),
    pytest.param(_set("rules.1.minimum", "128.3.0esr-1~deb12u1"), id="minimum-debian-esr"),
    pytest.param(_set("rules.1.minimum", "4:22.12.3-1+deb12u1"), id="minimum-epoch"),
    pytest.param(_set("rules.1.minimum", "17.5 (19618.2.12.11.6)"), id="minimum-safari-build"),
    pytest.param(_set("rules.1.minimum", "13.3.1 (a)"), id="minimum-rsr"),
    pytest.param(_set("rules.1.minimum", "154.0b3"), id="minimum-beta"),
    pytest.param(_set("rules.1.minimum", "115.15.0,1"), id="minimum-freebsd"),
    pytest.param(_set("rules.1.minimum", "24.002.20933"), id="minimum-acrobat"),
    pytest.param(_set("rules.1.platforms", ["linux", "linux"]), id="platforms-repeated"),
    pytest.param(_set("rules.6.unsupported", {}), id="unsupported-whole-track"),
    pytest.param(_set("rules", []), id="no-rules"),
    pytest.param(_set("serial", 0), id="serial-zero"),
    pytest.param(_set("rules.2.grace.days", 0), id="grace-zero-days"),
    pytest.param(_set("expires", "2026-11-20"), id="expires-on-published"),
    pytest.param(
        _set("x-clientcheck-steps", [{"days_left": 14, "level": "notice"}, {"days_left": 3, "level": "warning"}]),
        id="steps-for-every-rule",
    ),
    pytest.param(_set("rules.2.x-clientcheck-steps", [{"days_left": 7, "level": "quiet"}]), id="steps-of-a-rule"),
    pytest.param(
        _set("rules.2.x-clientcheck-steps", [{"days_left": 2, "level": "warning", "x-note": "CISO"}]),
        id="step-extension",
    ),
]


@pytest.mark.parametrize("edit", ACCEPTED)
def test_valid_variations_are_accepted_by_both(edit: Edit) -> None:
    document = design_example()
    edit(document)
    assert agent_problems(document) == []
    assert schema_accepts(document)


# What only the agent checks: JSON Schema cannot say it. Listed so that a change to either side is seen. --

AGENT_ONLY = [
    pytest.param(_set("rules.1.id", "firefox-esr"), "is already the id of", id="duplicate-rule-id"),
    pytest.param(_set("expires", "2026-11-19"), "is before published", id="expires-before-published"),
    pytest.param(_set("rules.4.unsupported.below", "10.0.26200"), "is above the minimum", id="below-above-minimum"),
    pytest.param(_set("rules.2.grace.days", 10**9), "is past 9999-12-31", id="grace-past-the-last-date"),
    pytest.param(_set("serial", 7.0), "must be an integer, not 7.0", id="serial-written-as-7.0"),
    pytest.param(
        _set("x-clientcheck-steps", [{"days_left": 3, "level": "notice"}, {"days_left": 3, "level": "warning"}]),
        "is already the days_left of",
        id="steps-same-day-twice",
    ),
]


@pytest.mark.parametrize(("edit", "problem"), AGENT_ONLY)
def test_checks_only_the_agent_makes(edit: Edit, problem: str) -> None:
    document = design_example()
    edit(document)
    assert schema_accepts(document)
    problems = agent_problems(document)
    assert len(problems) == 1
    assert problem in problems[0]


# The version pattern is the Version type, written as a regular expression -------------------------------

VERSION_SCHEMA = Draft202012Validator({"$ref": "#/$defs/version", "$defs": SCHEMA["$defs"]})


def _version_agreement(text: str) -> None:
    try:
        Version(text)
    except VersionError:
        agent = False
    else:
        agent = True
    assert VERSION_SCHEMA.is_valid(text) is agent, text


@pytest.mark.parametrize(
    "text",
    [
        "128.3.0esr-1~deb12u1",
        "4:22.12.3-1+deb12u1",
        "156.0.8078.108-1~deb12u1",
        "1.21.1+ds2-1+deb12u1",
        "3.04+git20220601-1+b2",
        "1:24.08.2-1.fc41",
        "115.5.0-r0",
        "115.15.0,1",
        "17.5 (19618.2.12.11.6)",
        "13.3.1 (a)",
        "154.0b3",
        "1.0~rc1-2",
        "v1.2",
        " 1.2\n",
        "1.0.rc.",
        "1:1snap1-0ubuntu5",
        "22H2",
        "",
        "abc",
        "1..2",
        "1.2.3foo",
        "1" * 18,
        "1" * 19,
        "1." * 100 + "1",
        "1.0 (A)",
        "1.0 (ab)",
        "1.0 (1a)",
        "1.0\u00a0(1)",
        "\uff11",
        "1.0\n\n",
        "1.0-",
    ],
)
def test_version_pattern_agrees_with_the_version_type(text: str) -> None:
    _version_agreement(text)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text() | st.from_regex(r"\A[0-9.:~+\-,_ ()abcersvA\n]{0,30}\Z"))
def test_version_pattern_agrees_with_the_version_type_on_any_text(text: str) -> None:
    _version_agreement(text)


# Random damage: the schema is never stricter than the agent, and rejects everything the agent does ------

KEYS = [
    "id",
    "product",
    "track",
    "platforms",
    "minimum",
    "severity",
    "grace",
    "unsupported",
    "message",
    "url",
    "source",
    "comment",
    "x-a",
    "bogus",
]
TOP_KEYS = ["schema", "publisher", "serial", "published", "expires", "rules", "description", "url", "comment"]
INTERESTING = st.sampled_from(
    [
        "firefox",
        "Firefox",
        "",
        " ",
        "1..2",
        "153.6",
        "10.0.26200",
        "2026-11-20",
        "2026-02-30",
        "https://a.invalid/",
        "linux",
        "required",
        "clientcheck.rules/1",
        ["linux"],
        ["bsd"],
        [],
        {},
        {"en": "x"},
        {"since": "2026-11-18", "days": 14},
        {"below": "24"},
        {"below": "1..2"},
        0,
        -1,
        True,
        None,
        7.5,
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=5,
)
# Known differences (see test_checks_only_the_agent_makes).
AGENT_ONLY_PROBLEM = re.compile(
    r"is already the id of|is before published|is above the minimum|is past 9999-12-31|is already the days_left of"
)


@st.composite
def damaged(draw: st.DrawFn) -> dict[str, Any]:
    document = design_example()
    for _ in range(draw(st.integers(1, 3))):
        value = draw(INTERESTING | JSON_VALUES)
        if draw(st.booleans()):
            key = draw(st.sampled_from(TOP_KEYS))
            target: dict[str, Any] = document
        else:
            rules = document.get("rules")
            if not isinstance(rules, list) or not rules or not isinstance(rules[0], dict):
                continue
            index = draw(st.integers(0, len(rules) - 1))
            if not isinstance(rules[index], dict):
                continue
            key = draw(st.sampled_from(KEYS))
            target = rules[index]
        if draw(st.integers(0, 4)) == 0:
            target.pop(key, None)
        else:
            target[key] = value
    return document


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_schema_and_agent_agree_on_damaged_documents(document: dict[str, Any]) -> None:
    problems = agent_problems(document)
    if schema_accepts(document):
        assert all(AGENT_ONLY_PROBLEM.search(problem) for problem in problems), problems
    else:
        assert problems, "the schema rejected a document the agent accepts"
