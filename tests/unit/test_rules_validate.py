"""The rule-file validator: the design's example loads as is, and every bad file is rejected whole with
each problem named by location."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import rule_edits

from clientcheck.rules import InvalidRuleFileError, bundled_rules_path, parse_rules
from clientcheck.rules import validate as validate_module
from clientcheck.version import Version

REPO = Path(__file__).resolve().parents[2]
DESIGN_EXAMPLE = REPO / "rules" / "examples" / "design-example.json"
BUNDLED_DEFAULT = REPO / "agent" / "clientcheck" / "data" / "default-rules.json"


def design_example() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DESIGN_EXAMPLE.read_text(encoding="utf-8"))
    return document


def encode(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def problems_of(data: bytes) -> list[str]:
    with pytest.raises(InvalidRuleFileError) as caught:
        parse_rules(data)
    assert isinstance(caught.value, ValueError)
    assert caught.value.problems, "a rejected file must name at least one problem"
    assert str(caught.value) == "; ".join(caught.value.problems)
    return caught.value.problems


# Files that must load ----------------------------------------------------------------------------------


def test_design_example_loads_as_is() -> None:
    ruleset = parse_rules(DESIGN_EXAMPLE.read_bytes())
    assert ruleset.publisher == "Example Corp IT"
    assert ruleset.serial == 7
    assert ruleset.published == dt.date(2026, 11, 20)
    assert ruleset.expires == dt.date(2027, 2, 28)
    assert [rule.id for rule in ruleset.rules] == [
        "firefox-esr",
        "firefox",
        "chrome",
        "acrobat-classic",
        "windows-11",
        "macos",
        "debian",
        "evince",
    ]
    esr, firefox, chrome, acrobat, windows, macos, debian, evince = ruleset.rules

    assert esr.products == ("firefox",)
    assert esr.track == "esr"
    assert esr.minimum == Version("153.6")
    assert esr.message == (("en", "Update Firefox ESR"), ("de", "Aktualisieren Sie Firefox ESR"))
    assert esr.url == "https://support.mozilla.org/kb/update-firefox-latest-release"
    assert esr.severity == "required"
    assert esr.platforms == ()
    assert esr.grace is None
    assert esr.unsupported is None

    assert firefox.track == "release"
    assert firefox.minimum == Version("150")
    assert firefox.message == ()

    assert chrome.products == ("chrome", "chromium")
    assert chrome.track is None
    assert chrome.minimum == Version("155.0")
    assert chrome.grace is not None
    assert chrome.grace.since == dt.date(2026, 11, 18)
    assert chrome.grace.days == 14
    assert chrome.grace.until == dt.date(2026, 12, 2)

    assert acrobat.products == ("acrobat-reader", "acrobat")
    assert acrobat.track == "classic"
    assert acrobat.minimum is None
    assert acrobat.unsupported is not None
    assert acrobat.unsupported.below == Version("24")
    assert acrobat.unsupported.since == dt.date(2025, 11, 30)
    assert acrobat.unsupported.message == (("en", "Acrobat 2020 and older are out of support"),)
    assert acrobat.unsupported.url is None

    assert windows.minimum == Version("10.0.26100")
    assert windows.unsupported is not None
    assert windows.unsupported.below == Version("10.0.22000")
    assert windows.unsupported.since == dt.date(2025, 10, 14)

    assert macos.severity == "recommended"
    assert macos.minimum == Version("14")

    assert debian.minimum == Version("12.0")
    assert debian.minimum is not None
    assert str(debian.minimum) == "12"

    assert evince.platforms == ("linux",)
    assert evince.minimum == Version("43.1")


def test_bundled_default_loads() -> None:
    ruleset = parse_rules(BUNDLED_DEFAULT.read_bytes())
    assert ruleset.serial > 0
    assert ruleset.published <= ruleset.expires
    assert len({rule.id for rule in ruleset.rules}) == len(ruleset.rules)
    assert parse_rules(Path(bundled_rules_path()).read_bytes()) == ruleset


def test_every_example_loads() -> None:
    examples = sorted((REPO / "rules" / "examples").glob("*.json"))
    assert DESIGN_EXAMPLE in examples
    for path in examples:
        parse_rules(path.read_bytes())


def test_utf8_bom_is_accepted() -> None:
    assert parse_rules(b"\xef\xbb\xbf" + DESIGN_EXAMPLE.read_bytes()).serial == 7


def test_non_ascii_text_is_read_as_utf8() -> None:
    document = design_example()
    document["publisher"] = "Société Générale IT"
    document["rules"][0]["message"]["fr"] = "Mettez Firefox ESR à jour"
    ruleset = parse_rules(encode(document))
    assert ruleset.publisher == "Société Générale IT"
    assert ("fr", "Mettez Firefox ESR à jour") in ruleset.rules[0].message


def test_extension_keys_are_accepted_everywhere() -> None:
    document = design_example()
    document["x-generator"] = {"name": "rulegen", "version": 3}
    document["rules"][0]["x-ticket"] = "IT-1234"
    document["rules"][2]["grace"]["x-why"] = "rollout"
    document["rules"][3]["unsupported"]["x-eol"] = None
    document["rules"][1]["source"] = {"url": "https://www.mozilla.org/", "date": "2026-11-20", "x-by": "me"}
    ruleset = parse_rules(encode(document))
    assert len(ruleset.rules) == 8


def test_optional_fields_load() -> None:
    document = design_example()
    document["description"] = "Minimums for managed laptops"
    document["url"] = "https://it.example.invalid/rules.json"
    document["comment"] = "reviewed weekly"
    document["rules"][1]["message"] = "Update Firefox"
    document["rules"][1]["comment"] = "release channel"
    document["rules"][1]["source"] = "vendor advisory"
    document["rules"][3]["unsupported"]["url"] = "https://helpx.adobe.com/"
    document["rules"][3]["platforms"] = ["windows", "macos"]
    document["rules"][6]["unsupported"] = {}  # whole track end-of-life, no bound
    ruleset = parse_rules(encode(document))
    assert ruleset.rules[1].message == (("en", "Update Firefox"),)
    assert ruleset.rules[3].platforms == ("windows", "macos")
    assert ruleset.rules[3].unsupported is not None
    assert ruleset.rules[3].unsupported.url == "https://helpx.adobe.com/"
    assert ruleset.rules[6].unsupported is not None
    assert ruleset.rules[6].unsupported.below is None


def test_empty_rule_list_loads() -> None:
    document = design_example()
    document["rules"] = []
    assert parse_rules(encode(document)).rules == ()


def test_unsupported_below_equal_to_minimum_is_allowed() -> None:
    document = design_example()
    document["rules"][4]["unsupported"]["below"] = "10.0.26100.0"
    parse_rules(encode(document))


# One problem at a time: the exact line ------------------------------------------------------------------

Edit = rule_edits.Edit
_set = rule_edits.set_at
_delete = rule_edits.delete_at


ONE_PROBLEM = [
    # the file
    pytest.param(_delete("schema"), "schema: is required (and must be 'clientcheck.rules/1')", id="schema-missing"),
    pytest.param(
        _set("schema", "clientcheck.rules/2"),
        "schema: must be 'clientcheck.rules/1', not 'clientcheck.rules/2'",
        id="schema-wrong-version",
    ),
    pytest.param(_delete("publisher"), "publisher: is required", id="publisher-missing"),
    pytest.param(_set("publisher", "  "), "publisher: must be a non-empty string, not '  '", id="publisher-blank"),
    pytest.param(_set("publisher", 7), "publisher: must be a non-empty string, not 7", id="publisher-not-string"),
    pytest.param(_delete("serial"), "serial: is required", id="serial-missing"),
    pytest.param(_set("serial", -1), "serial: must be at least 0, not -1", id="serial-negative"),
    pytest.param(_set("serial", "7"), "serial: must be an integer, not '7'", id="serial-string"),
    pytest.param(_set("serial", True), "serial: must be an integer, not true", id="serial-boolean"),
    pytest.param(_set("serial", 7.5), "serial: must be an integer, not 7.5", id="serial-fraction"),
    pytest.param(_delete("published"), "published: is required", id="published-missing"),
    pytest.param(
        _set("published", "20.11.2026"),
        "published: '20.11.2026' is not a date (YYYY-MM-DD)",
        id="published-not-iso",
    ),
    pytest.param(
        _set("expires", "2027-02-30"), "expires: '2027-02-30' is not a real date", id="expires-impossible-date"
    ),
    pytest.param(
        _set("expires", "2026-11-19"),
        "expires: 2026-11-19 is before published 2026-11-20",
        id="expires-before-published",
    ),
    pytest.param(
        _set("publsher", "typo"),
        "publsher: unknown key (extensions must start with 'x-')",
        id="unknown-top-level-key",
    ),
    pytest.param(
        _set("X-upper", 1),
        "X-upper: unknown key (extensions must start with 'x-')",
        id="extension-prefix-is-lowercase",
    ),
    pytest.param(
        _set("url", "ftp://example.invalid/"), "url: 'ftp://example.invalid/' is not an http(s) URL", id="url"
    ),
    pytest.param(_set("description", ""), "description: must be a non-empty string, not ''", id="description-empty"),
    pytest.param(_delete("rules"), "rules: is required", id="rules-missing"),
    pytest.param(_set("rules", {}), "rules: must be a list, not {}", id="rules-not-list"),
    # one rule
    pytest.param(_set("rules.0", "firefox"), "rules[0]: must be an object, not 'firefox'", id="rule-not-object"),
    pytest.param(_delete("rules.1.id"), "rules[1].id: is required", id="rule-id-missing"),
    pytest.param(
        _set("rules.1.id", "Firefox Release"),
        "rules[1].id: 'Firefox Release' is not a valid rule id",
        id="rule-id-invalid",
    ),
    pytest.param(
        _set("rules.1.id", "firefox-esr"),
        "rules[1].id: 'firefox-esr' is already the id of rules[0]",
        id="rule-id-duplicate",
    ),
    pytest.param(_delete("rules.1.product"), "rules[1].product: is required", id="product-missing"),
    pytest.param(
        _set("rules.1.product", "Fire Fox"), "rules[1].product: 'Fire Fox' is not a product id", id="product-invalid"
    ),
    pytest.param(
        _set("rules.2.product", ["chrome", 7]), "rules[2].product[1]: 7 is not a product id", id="product-list-item"
    ),
    pytest.param(
        _set("rules.2.product", []),
        "rules[2].product: must be a product id or a non-empty list of them, not []",
        id="product-empty-list",
    ),
    pytest.param(
        _set("rules.3.minimum", "1..2"), "rules[3].minimum: '1..2' is not a version", id="minimum-not-a-version"
    ),
    pytest.param(
        _set("rules.1.minimum", 150),
        "rules[1].minimum: must be a version string, not 150",
        id="minimum-number-not-string",
    ),
    pytest.param(
        _set("rules.1.minimum", "22H2"), "rules[1].minimum: '22H2' is not a version", id="minimum-windows-name"
    ),
    pytest.param(
        _set("rules.1.track", "Release"), "rules[1].track: 'Release' is not a valid track name", id="track-invalid"
    ),
    pytest.param(
        _set("rules.7.platforms", ["Linux"]),
        "rules[7].platforms[0]: 'Linux' is not one of linux, macos, windows",
        id="platform-unknown",
    ),
    pytest.param(
        _set("rules.7.platforms", []),
        "rules[7].platforms: must be a non-empty list of linux, macos, windows, not []",
        id="platforms-empty",
    ),
    pytest.param(
        _set("rules.7.platforms", "linux"),
        "rules[7].platforms: must be a non-empty list of linux, macos, windows, not 'linux'",
        id="platforms-not-list",
    ),
    pytest.param(
        _set("rules.5.severity", "optional"),
        "rules[5].severity: must be 'required' or 'recommended', not 'optional'",
        id="severity-unknown",
    ),
    pytest.param(
        _set("rules.2.grace", 14),
        "rules[2].grace: must be an object with 'since' and 'days', not 14",
        id="grace-not-object",
    ),
    pytest.param(_delete("rules.2.grace.days"), "rules[2].grace.days: is required", id="grace-days-missing"),
    pytest.param(
        _set("rules.2.grace.days", -1), "rules[2].grace.days: must be at least 0, not -1", id="grace-days-negative"
    ),
    pytest.param(
        _set("rules.2.grace.until", "2026-12-02"),
        "rules[2].grace.until: unknown key (extensions must start with 'x-')",
        id="grace-unknown-key",
    ),
    pytest.param(
        _set("rules.2.grace.days", 10**9),
        "rules[2].grace: 2026-11-18 plus 1000000000 days is past 9999-12-31",
        id="grace-past-the-last-date",
    ),
    pytest.param(
        _set("rules.3.grace", {"since": "2026-11-18", "days": 14}),
        "rules[3].grace: only applies to a 'minimum'",
        id="grace-without-minimum",
    ),
    pytest.param(
        _set("rules.3.unsupported", "yes"),
        "rules[3].unsupported: must be an object, not 'yes'",
        id="unsupported-not-object",
    ),
    pytest.param(
        _set("rules.3.unsupported.below", "24 LTS"),
        "rules[3].unsupported.below: '24 LTS' is not a version",
        id="unsupported-below-not-a-version",
    ),
    pytest.param(
        _set("rules.3.unsupported.until", "2025-11-30"),
        "rules[3].unsupported.until: unknown key (extensions must start with 'x-')",
        id="unsupported-unknown-key",
    ),
    pytest.param(
        _set("rules.4.unsupported.below", "10.0.26200"),
        "rules[4].unsupported.below: '10.0.26200' is above the minimum '10.0.26100'",
        id="unsupported-below-above-minimum",
    ),
    pytest.param(
        _delete("rules.6.minimum"),
        "rules[6]: needs 'minimum' or 'unsupported' (a rule without either checks nothing)",
        id="rule-checks-nothing",
    ),
    pytest.param(
        _set("rules.0.message.english", "Update"),
        "rules[0].message.english: is not a language tag (like 'en' or 'pt-BR')",
        id="message-bad-language-tag",
    ),
    pytest.param(
        _set("rules.0.message.de", " "),
        "rules[0].message.de: must be a non-empty string, not ' '",
        id="message-blank-translation",
    ),
    pytest.param(
        _set("rules.0.message", {}),
        "rules[0].message: must be a string or an object of language tag -> text, not {}",
        id="message-empty-object",
    ),
    pytest.param(
        _set("rules.0.message", ["Update"]),
        'rules[0].message: must be a string or an object of language tag -> text, not ["Update"]',
        id="message-list",
    ),
    pytest.param(
        _set("rules.0.url", "support.mozilla.org"),
        "rules[0].url: 'support.mozilla.org' is not an http(s) URL",
        id="rule-url-no-scheme",
    ),
    pytest.param(
        _set("rules.0.source", 1),
        "rules[0].source: must be a string or an object with url, date, note, not 1",
        id="source-wrong-type",
    ),
    pytest.param(
        _set("rules.0.source", {"date": "soon"}),
        "rules[0].source.date: 'soon' is not a date (YYYY-MM-DD)",
        id="source-date",
    ),
    pytest.param(
        _set("rules.0.source", {"by": "me"}),
        "rules[0].source.by: unknown key (extensions must start with 'x-')",
        id="source-unknown-key",
    ),
    pytest.param(
        _set("rules.1.minimun", "150.0"),
        "rules[1].minimun: unknown key (extensions must start with 'x-')",
        id="unknown-rule-key",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), ONE_PROBLEM)
def test_one_problem(edit: Edit, expected: str) -> None:
    document = design_example()
    edit(document)
    assert problems_of(encode(document)) == [expected]


def test_a_typo_in_a_key_also_leaves_the_rule_checking_nothing() -> None:
    document = design_example()
    document["rules"][6]["minimun"] = document["rules"][6].pop("minimum")
    assert problems_of(encode(document)) == [
        "rules[6].minimun: unknown key (extensions must start with 'x-')",
        "rules[6]: needs 'minimum' or 'unsupported' (a rule without either checks nothing)",
    ]


def test_long_values_are_shortened_in_messages() -> None:
    document = design_example()
    document["rules"][1]["minimum"] = "9" * 300
    (problem,) = problems_of(encode(document))
    assert problem == "rules[1].minimum: " + repr("9" * 300)[:57] + "... is not a version"


def test_too_many_rules() -> None:
    document = design_example()
    document["rules"] = [{"id": f"r{i}", "product": "firefox", "minimum": "1"} for i in range(10_001)]
    assert problems_of(encode(document)) == ["rules: has 10001 rules; at most 10000 are allowed"]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param([], "the file must hold a JSON object, not list", id="list"),
        pytest.param("rules", "the file must hold a JSON object, not str", id="string"),
        pytest.param(7, "the file must hold a JSON object, not int", id="number"),
    ],
)
def test_the_file_must_hold_an_object(document: Any, expected: str) -> None:
    assert problems_of(encode(document)) == [expected]


def test_empty_object_lists_every_required_field() -> None:
    assert problems_of(b"{}") == [
        "schema: is required (and must be 'clientcheck.rules/1')",
        "publisher: is required",
        "serial: is required",
        "published: is required",
        "expires: is required",
        "rules: is required",
    ]


# Many problems: all of them, in file order --------------------------------------------------------------


def test_every_problem_is_listed() -> None:
    document = design_example()
    document["schema"] = "clientcheck.rules/2"
    document["serial"] = -7
    document["expires"] = "2026-01-01"
    document["colour"] = "blue"
    rules = document["rules"]
    rules[0]["message"]["EN_us_x_y_z"] = "x"
    rules[1]["id"] = "firefox-esr"
    rules[2]["grace"]["days"] = "14"
    rules[3]["minimum"] = "1..2"
    rules[4]["unsupported"]["below"] = "11"
    rules[5]["severity"] = "must"
    rules[6]["platforms"] = ["linux", "bsd", "haiku"]
    rules[7]["product"] = ["evince", ""]
    rules.append("not a rule")
    rules.append({"id": "empty"})

    problems = problems_of(encode(document))
    assert problems == [
        "colour: unknown key (extensions must start with 'x-')",
        "schema: must be 'clientcheck.rules/1', not 'clientcheck.rules/2'",
        "serial: must be at least 0, not -7",
        "expires: 2026-01-01 is before published 2026-11-20",
        "rules[0].message.EN_us_x_y_z: is not a language tag (like 'en' or 'pt-BR')",
        "rules[1].id: 'firefox-esr' is already the id of rules[0]",
        "rules[2].grace.days: must be an integer, not '14'",
        "rules[3].minimum: '1..2' is not a version",
        "rules[4].unsupported.below: '11' is above the minimum '10.0.26100'",
        "rules[5].severity: must be 'required' or 'recommended', not 'must'",
        "rules[6].platforms[1]: 'bsd' is not one of linux, macos, windows",
        "rules[6].platforms[2]: 'haiku' is not one of linux, macos, windows",
        "rules[7].product[1]: '' is not a product id",
        "rules[8]: must be an object, not 'not a rule'",
        "rules[9].product: is required",
        "rules[9]: needs 'minimum' or 'unsupported' (a rule without either checks nothing)",
    ]
    assert len(problems) == 16


def test_the_file_is_rejected_whole() -> None:
    # One bad rule among good ones: nothing is returned, not the good rules.
    document = design_example()
    document["rules"][7]["minimum"] = "43..1"
    with pytest.raises(InvalidRuleFileError) as caught:
        parse_rules(encode(document))
    assert caught.value.problems == ["rules[7].minimum: '43..1' is not a version"]


# Bytes and JSON -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b'{"schema": "x",\n  "serial": }', "line 2 column 13: invalid JSON: Expecting value", id="value"),
        pytest.param(b"", "line 1 column 1: invalid JSON: Expecting value", id="empty-file"),
        pytest.param(b'{"a": 1}\n{"b": 2}', "line 2 column 1: invalid JSON: Extra data", id="two-documents"),
        pytest.param(
            b"{'serial': 7}", "line 1 column 2: invalid JSON: Expecting property name enclosed in double quotes"
        ),
        pytest.param(b'{"serial": NaN}', "invalid JSON: NaN is not a JSON value", id="nan"),
        pytest.param(b'{"x-a": -Infinity}', "invalid JSON: -Infinity is not a JSON value", id="infinity"),
    ],
)
def test_invalid_json(data: bytes, expected: str) -> None:
    assert problems_of(data) == [expected]


def test_trailing_comma_names_line_and_column() -> None:
    # The wording after "invalid JSON:" is the json module's and changed in Python 3.13.
    (problem,) = problems_of(b'{"serial": 7,}')
    assert problem.startswith("line 1 column 14: invalid JSON: ")


def test_invalid_json_in_a_real_file_names_line_and_column() -> None:
    text = DESIGN_EXAMPLE.read_text(encoding="utf-8").replace('"serial": 7,', '"serial": 7', 1)
    (problem,) = problems_of(text.encode("utf-8"))
    assert problem == "line 5 column 3: invalid JSON: Expecting ',' delimiter"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        pytest.param(b'{"serial": 7, "serial": 8}', "serial", id="top-level"),
        pytest.param(b'{"rules": [{"id": "a", "minimum": "1", "minimum": "2"}]}', "minimum", id="in-a-rule"),
    ],
)
def test_duplicate_keys_are_rejected(data: bytes, key: str) -> None:
    assert problems_of(data) == [f"duplicate key {key!r}: a key may appear only once per object"]


def test_duplicate_key_in_the_design_example_is_rejected() -> None:
    text = DESIGN_EXAMPLE.read_text(encoding="utf-8").replace('"serial": 7,', '"serial": 7, "serial": 700,', 1)
    assert problems_of(text.encode("utf-8")) == ["duplicate key 'serial': a key may appear only once per object"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b'{"publisher": "Soci\xe9t\xe9"}', "byte 19: not UTF-8 text", id="latin-1"),
        pytest.param("{}".encode("utf-16"), "byte 0: not UTF-8 text", id="utf-16-with-bom"),
        pytest.param(b"\xff\xfe", "byte 0: not UTF-8 text", id="invalid-start-byte"),
    ],
)
def test_non_utf8_is_rejected(data: bytes, expected: str) -> None:
    assert problems_of(data) == [expected]


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    depth = 100_000
    assert problems_of(b"[" * depth + b"]" * depth) == ["invalid JSON: nested too deeply"]
    assert problems_of(b'{"x-a": ' + b"[" * depth + b"]" * depth + b"}") == ["invalid JSON: nested too deeply"]


@pytest.mark.parametrize("depth", [500, 990, 999, 1200])
def test_nesting_json_can_read_but_not_write_back_is_a_problem_not_a_crash(depth: int) -> None:
    # json.loads accepts a little deeper nesting than json.dumps (used to quote bad values) can write.
    document = design_example()
    text = encode(document).decode().replace('"Example Corp IT"', "[" * depth + "]" * depth)
    (problem,) = problems_of(text.encode())
    assert problem.startswith(("publisher: must be a non-empty string, not ", "invalid JSON: nested too deeply"))


def test_integer_too_long_to_convert_is_a_problem_not_a_crash() -> None:
    data = encode(design_example()).replace(b'"serial": 7', b'"serial": ' + b"7" * 5000)
    (problem,) = problems_of(data)
    assert problem.startswith("invalid JSON: ")
    assert "4300" in problem


def test_very_large_serial_within_json_limits_is_a_problem() -> None:
    # A serial no later file could exceed would freeze every client on this file (tests/unit/test_rules_serial.py).
    document = design_example()
    document["serial"] = 10**100
    assert problems_of(encode(document)) == ["serial: must be at most 9007199254740991, not a 101-digit number"]


# Boundaries: each limit on both sides, and where each problem is said to be --------------------------------


def _with(path: str, value: Any) -> bytes:
    document = design_example()
    rule_edits.set_at(path, value)(document)
    return encode(document)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        pytest.param("rules.1.id", "r", None, id="rule-id-of-1"),
        pytest.param("rules.1.id", "9" + "a" * 63, None, id="rule-id-of-64"),
        pytest.param(
            "rules.1.id", "a" * 65, "rules[1].id: '" + "a" * 56 + "... is not a valid rule id", id="rule-id-of-65"
        ),
        pytest.param(
            "rules.1.id", "-firefox", "rules[1].id: '-firefox' is not a valid rule id", id="rule-id-first-char"
        ),
        pytest.param("rules.1.id", "fire.fox_2-x", None, id="rule-id-every-other-char"),
        pytest.param("rules.1.track", "t" * 32, None, id="track-of-32"),
        pytest.param(
            "rules.1.track", "t" * 33, "rules[1].track: '" + "t" * 33 + "' is not a valid track name", id="track-of-33"
        ),
        pytest.param("rules.2.product", ["chrome", "p" * 64], None, id="product-of-64"),
        pytest.param(
            "rules.2.product",
            ["p" * 65],
            "rules[2].product[0]: '" + "p" * 56 + "... is not a product id",
            id="product-of-65",
        ),
        pytest.param("rules.0.message", {"fil": "Mag-update"}, None, id="language-of-3-letters"),
        pytest.param(
            "rules.0.message",
            {"engl": "x"},
            "rules[0].message.engl: is not a language tag (like 'en' or 'pt-BR')",
            id="language-of-4-letters",
        ),
        pytest.param(
            "rules.0.message",
            {"zh-Hant-TW-x1-y2": "x"},
            "rules[0].message.zh-Hant-TW-x1-y2: is not a language tag (like 'en' or 'pt-BR')",
            id="four-subtags",
        ),
        pytest.param("rules.0.message", {"zh_Hant_TW": "x"}, None, id="two-subtags-posix"),
        pytest.param("rules.0.message", {"zh-Hant-TW-x1": "x"}, None, id="three-subtags"),
        pytest.param("rules.0.message", {"de-12345678": "x"}, None, id="subtag-of-8"),
        pytest.param(
            "rules.0.message",
            {"de-123456789": "x"},
            "rules[0].message.de-123456789: is not a language tag (like 'en' or 'pt-BR')",
            id="subtag-of-9",
        ),
        pytest.param(
            "rules.0.message",
            {"de-A": "x"},
            "rules[0].message.de-A: is not a language tag (like 'en' or 'pt-BR')",
            id="subtag-of-1",
        ),
        pytest.param(
            "rules.0.message",
            {"de-a!": "x"},
            "rules[0].message.de-a!: is not a language tag (like 'en' or 'pt-BR')",
            id="subtag-not-alphanumeric",
        ),
        pytest.param(
            "rules.0.message",
            {"dé": "x"},
            "rules[0].message.dé: is not a language tag (like 'en' or 'pt-BR')",
            id="language-not-ascii",
        ),
        pytest.param("rules.0.url", "http://a", None, id="http-url-of-one-character"),
        pytest.param("rules.0.url", "https://a", None, id="https-url-of-one-character"),
        pytest.param(
            "rules.0.url", "http://", "rules[0].url: 'http://' is not an http(s) URL", id="http-url-of-nothing"
        ),
        pytest.param(
            "rules.0.url", "https://", "rules[0].url: 'https://' is not an http(s) URL", id="https-url-of-nothing"
        ),
        pytest.param("rules.0.url", "https://" + "a" * 2000, None, id="url-of-2000-after-the-scheme"),
        pytest.param(
            "rules.0.url",
            "https://" + "a" * 2001,
            "rules[0].url: 'https://" + "a" * 48 + "... is not an http(s) URL",
            id="url-of-2001",
        ),
        pytest.param(
            "rules.0.url",
            "https://a.invalid/x y",
            "rules[0].url: 'https://a.invalid/x y' is not an http(s) URL",
            id="url-with-a-space",
        ),
        pytest.param(
            "rules.0.url",
            "HTTP://A.INVALID/",
            "rules[0].url: 'HTTP://A.INVALID/' is not an http(s) URL",
            id="url-scheme-in-capitals",
        ),
        pytest.param("rules.5.severity", "required", None, id="severity-required-written-out"),
        pytest.param("serial", 0, None, id="serial-0"),
        pytest.param("rules.2.grace.days", 0, None, id="grace-of-0-days"),
        pytest.param(
            "published", "2026-1-20", "published: '2026-1-20' is not a date (YYYY-MM-DD)", id="date-month-of-one-digit"
        ),
        pytest.param(
            "published", "2026-11-2", "published: '2026-11-2' is not a date (YYYY-MM-DD)", id="date-of-9-characters"
        ),
        pytest.param(
            "published", "2026/11/20", "published: '2026/11/20' is not a date (YYYY-MM-DD)", id="date-with-slashes"
        ),
        pytest.param(
            "published",
            "\uff12\uff10\uff12\uff16-11-20",
            "published: '\uff12\uff10\uff12\uff16-11-20' is not a date (YYYY-MM-DD)",
            id="date-with-fullwidth-digits",
        ),
    ],
)
def test_each_limit_on_both_sides(path: str, value: Any, expected: str | None) -> None:
    data = _with(path, value)
    if expected is None:
        parse_rules(data)
    else:
        assert problems_of(data) == [expected]


def test_severity_required_written_out_is_required() -> None:
    ruleset = parse_rules(_with("rules.5.severity", "required"))
    assert ruleset.rules[5].severity == "required"
    assert parse_rules(DESIGN_EXAMPLE.read_bytes()).rules[5].severity == "recommended"


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        pytest.param(
            "rules.0.source",
            {"url": "ftp://x"},
            "rules[0].source.url: 'ftp://x' is not an http(s) URL",
            id="source-url",
        ),
        pytest.param(
            "rules.0.source",
            {"note": " "},
            "rules[0].source.note: must be a non-empty string, not ' '",
            id="source-note",
        ),
        pytest.param("rules.0.source", " ", "rules[0].source: must be a non-empty string, not ' '", id="source-blank"),
        pytest.param(
            "rules.2.grace.since", "soon", "rules[2].grace.since: 'soon' is not a date (YYYY-MM-DD)", id="grace-since"
        ),
        pytest.param(
            "rules.3.unsupported.since",
            "soon",
            "rules[3].unsupported.since: 'soon' is not a date (YYYY-MM-DD)",
            id="unsupported-since",
        ),
        pytest.param(
            "rules.3.unsupported.url", "x", "rules[3].unsupported.url: 'x' is not an http(s) URL", id="unsupported-url"
        ),
        pytest.param(
            "rules.3.unsupported.message",
            {"e": "x"},
            "rules[3].unsupported.message.e: is not a language tag (like 'en' or 'pt-BR')",
            id="unsupported-message",
        ),
        pytest.param(
            "rules.0.message.de",
            "\ud800",
            "rules[0].message.de: contains a lone surrogate escape (\\ud800-\\udfff): not valid Unicode text",
            id="message-lone-surrogate",
        ),
        pytest.param(
            "rules.1.message",
            "\ud800",
            "rules[1].message: contains a lone surrogate escape (\\ud800-\\udfff): not valid Unicode text",
            id="message-string-lone-surrogate",
        ),
    ],
)
def test_a_problem_inside_a_part_says_where(path: str, value: Any, expected: str) -> None:
    document = design_example()
    rule_edits.set_at(path, value)(document)
    assert problems_of(json.dumps(document).encode()) == [expected]


def test_a_key_is_shown_with_its_controls_escaped() -> None:
    document = design_example()
    document["rules"][0]["x\x1b[2J\u202e"] = 1
    assert problems_of(encode(document)) == ["rules[0].x\\x1b[2JU+202E: unknown key (extensions must start with 'x-')"]


def test_an_empty_key_is_named_by_its_problem_alone() -> None:
    document = design_example()
    document[""] = 1
    assert problems_of(encode(document)) == ["unknown key (extensions must start with 'x-')"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("a" * 58, repr("a" * 58), id="60-characters-shown-whole"),
        pytest.param("a" * 59, repr("a" * 59)[:57] + "...", id="61-characters-shortened"),
        pytest.param({"é": 1}, '{"é": 1}', id="non-ascii-shown-as-it-is"),
        pytest.param(["\x1b[2J"], '["\\u001b[2J"]', id="controls-escaped"),
        pytest.param(["\u202e\x85\x7f"], '["U+202E\\x85\\x7f"]', id="bidi-c1-and-del-escaped"),
        pytest.param(["\x85\\"], '["\\x85\\\\"]', id="an-escape-beside-a-backslash"),
    ],
)
def test_how_a_bad_value_is_quoted(value: Any, expected: str) -> None:
    assert validate_module._describe(value) == expected


def test_a_value_too_deep_to_quote_is_described() -> None:
    deep_list: Any = []
    deep_object: Any = {}
    for _ in range(100_000):
        deep_list = [deep_list]
        deep_object = {"a": deep_object}
    assert validate_module._describe(deep_list) == "a deeply nested list"
    assert validate_module._describe(deep_object) == "a deeply nested object"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2026-x1-20", id="month-not-digits"),
        pytest.param("2026-11-x0", id="day-not-digits"),
        pytest.param("20261120", id="basic-format-without-dashes"),
        pytest.param("2026-1120", id="one-dash"),
    ],
)
def test_a_date_is_exactly_yyyy_mm_dd(text: str) -> None:
    assert problems_of(_with("published", text)) == [f"published: {text!r} is not a date (YYYY-MM-DD)"]


def test_exactly_the_most_rules_allowed_load() -> None:
    document = design_example()
    document["rules"] = [{"id": f"r{i}", "product": "firefox", "minimum": "1"} for i in range(10_000)]
    assert len(parse_rules(encode(document)).rules) == 10_000


def test_bytes_that_are_not_utf8_after_a_byte_order_mark_are_counted_from_the_files_start() -> None:
    assert problems_of(b'\xef\xbb\xbf{"publisher": "Soci\xe9t\xe9"}') == ["byte 22: not UTF-8 text"]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        pytest.param("comment", "", "comment: must be a non-empty string, not ''", id="file-comment"),
        pytest.param("rules.1.comment", "", "rules[1].comment: must be a non-empty string, not ''", id="rule-comment"),
        pytest.param(
            "publisher",
            "\ud800",
            "publisher: contains a lone surrogate escape (\\ud800-\\udfff): not valid Unicode text",
            id="publisher-lone-surrogate",
        ),
    ],
)
def test_a_text_field_says_where_it_is(path: str, value: Any, expected: str) -> None:
    document = design_example()
    rule_edits.set_at(path, value)(document)
    assert problems_of(json.dumps(document).encode()) == [expected]
