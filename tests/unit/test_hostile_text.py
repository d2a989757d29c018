"""Terminal and bidi injection: text from outside (a rule file's messages and links, names and paths read
from the machine) reaches no format raw. ESC sequences, BEL, CR, DEL, C1 controls and the bidi overrides
and isolates are written out visibly (``\\x1b``, ``U+202E``); newlines and tabs are text (one-line formats
make them spaces); the bidi marks U+200E, U+200F and U+061C stay, as right-to-left messages need them.
``rules validate`` (and loading) refuses such characters in a rule file, naming where they are."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_render_formats import GENERATED, RULES, TODAY, install

from clientcheck.config.table import FORMATS
from clientcheck.model import Finding, Inventory, OSInfo, Report
from clientcheck.render import report_renderer, words
from clientcheck.rules import InvalidRuleFileError, parse_rules
from clientcheck.version import Version
from clientcheck.visible import one_line, unsafe_characters, visible
from conftest import DESIGN_EXAMPLE

# Everything a terminal acts on, or that reorders what is read.
C0 = [chr(code) for code in range(0x20) if chr(code) not in "\n\t"]
C1 = [chr(code) for code in range(0x80, 0xA0)]
BIDI = [chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
UNSAFE = [*C0, "\x7f", *C1, *BIDI]
SHALOM = "\u05e9\u05dc\u05d5\u05dd"  # a right-to-left word
ATTACK = "\x1b[2J\x1b]0;owned\x07\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\\r\x9b31mfdp.exe\u202e"


def raw_unsafe(text: str) -> list[str]:
    return [f"U+{ord(char):04X}" for char in text if char in UNSAFE]


# --- the sanitiser ---------------------------------------------------------------------------------------


def test_every_unsafe_character_is_written_out_and_nothing_else() -> None:
    for char in [*C0, "\x7f", *C1]:
        assert visible(f"a{char}b") == f"a\\x{ord(char):02x}b"
    for char in BIDI:
        assert visible(f"a{char}b") == f"aU+{ord(char):04X}b"
    kept = "plain ASCII, ünïcödé, 日本語, עברית\u200f, عربي\u061c, tab\tand\nnewline, \u00a0\u2028"
    assert visible(kept) == kept


def test_visible_is_idempotent_and_one_line_folds_white_space() -> None:
    once = visible(ATTACK)
    assert visible(once) == once
    assert raw_unsafe(once) == []
    assert one_line("a\nb\tc  \x1bd\re") == "a b c \\x1bd\\x0de"


@given(st.text())
def test_the_cheap_path_writes_out_exactly_what_visible_does(text: str) -> None:
    # words.shown skips importing the sanitiser for plain text: it must never skip anything it would change.
    assert words.shown(text) == visible(text)
    assert unsafe_characters(text) == list(dict.fromkeys(f"U+{ord(c):04X}" for c in text if visible(c) != c))


def test_unsafe_characters_names_each_once_in_order() -> None:
    assert unsafe_characters("ok\u200f") == []
    assert unsafe_characters("a\x1b[1mb\x1b\u202ec\n\t") == ["U+001B", "U+202E"]


# --- every format, from a report made of hostile text -------------------------------------------------


def hostile_report() -> Report:
    name = "Firefox\x1b]0;title\x07\u2066"
    message = "Update\u202e now\x9b" + ATTACK + " \u200f" + SHALOM
    finding = Finding(
        rule="firefox",
        product="firefox",
        name=name,
        status="owed",
        severity="required",
        installed=Version("128.0"),
        required=Version("153.6"),
        message=message,
        url="https://example.org/\x1b]8;;x",
        remedy="sudo apt install\rrm -rf ~",
        scope="user",
        path="/home/u/.local/bin/\x1b[8mfirefox",
    )
    os_info = OSInfo(platform="linux", id="debian\x1b", name="Debian\u202e", version=Version("12.8"))
    inventory = Inventory(
        os=os_info,
        software=(install("firefox", name, "128.0", path="/opt/\x07ff", source="dpkg\x1b"),),
        warnings=("/home/u/\x1b[31mx.desktop: cannot read",),
    )
    return Report(
        generated_at=GENERATED, inventory=inventory, findings=(finding,), rules=RULES, as_of=TODAY, language="en"
    )


@pytest.mark.parametrize("format_name", FORMATS)
def test_no_format_writes_a_control_character_from_outside(format_name: str) -> None:
    text = report_renderer(format_name)(hostile_report())
    structure = "\r\n" if format_name == "csv" else "\n"  # CSV's own line ends are the format's
    assert raw_unsafe(text.replace(structure, "\n")) == [], format_name
    if format_name in ("text", "nagios", "csv", "html", "json"):  # the formats that carry messages
        assert "\u200f" + SHALOM in text, format_name  # the right-to-left mark survives


@pytest.mark.parametrize("format_name", ["text", "nagios", "jamf", "csv", "html"])
def test_the_formats_for_people_show_what_was_written_out(format_name: str) -> None:
    text = report_renderer(format_name)(hostile_report())
    assert "\\x1b]0;title\\x07U+2066" in text, format_name  # the name, as read from the machine


@pytest.mark.parametrize("format_name", ["json", "ansible", "intune"])
def test_json_formats_keep_the_value_but_escape_it(format_name: str) -> None:
    text = report_renderer(format_name)(hostile_report())
    assert "\u202e" not in text and "\x9b" not in text
    document = json.loads(text)
    if format_name == "json":
        assert document["findings"][0]["message"].startswith("Update\u202e now\x9b")  # the same data, inert


def test_one_line_formats_stay_one_line_per_item() -> None:
    nagios = report_renderer("nagios")(hostile_report()).splitlines()
    assert len(nagios) == 2  # the status line, then the one finding
    jamf = report_renderer("jamf")(hostile_report())
    assert jamf.count("\n") == 1 and jamf.endswith("</result>\n")


# --- the rule file --------------------------------------------------------------------------------------


def design_example() -> dict[str, object]:
    document: dict[str, object] = json.loads(DESIGN_EXAMPLE.read_text(encoding="utf-8"))
    return document


def problems(document: dict[str, object]) -> list[str]:
    with pytest.raises(InvalidRuleFileError) as caught:
        parse_rules(json.dumps(document).encode("utf-8"))
    return caught.value.problems


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\r", "\x00", "\x7f", "\x85", "\x9b", "\u202e", "\u2066", "\u2069"])
def test_a_message_with_a_control_character_is_refused_with_its_location(char: str) -> None:
    document = design_example()
    rules = document["rules"]
    assert isinstance(rules, list)
    rules[3]["message"] = {"en": f"Update{char} now"}
    assert problems(document) == [f"rules[3].message.en: control character U+{ord(char):04X}"]


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("rules", 0, "message", "de"), "a\x1b[2Jb\u202ec", "rules[0].message.de: control characters U+001B, U+202E"),
        (("rules", 4, "unsupported", "message", "en"), "x\x07", "rules[4].unsupported.message.en: control character"),
        (("rules", 1, "message"), "plain\x1b", "rules[1].message: control character U+001B"),
        (("rules", 0, "url"), "https://a.example/\x1b]8;;", "rules[0].url: control character U+001B"),
        (("publisher",), "IT\u202e", "publisher: control character U+202E"),
    ],
)
def test_every_shown_text_of_a_rule_file_is_checked(path: tuple[object, ...], value: str, problem: str) -> None:
    document = design_example()
    target: object = document
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    found = problems(document)
    assert len(found) == 1 and found[0].startswith(problem), found


def test_newlines_tabs_and_bidi_marks_are_text_in_a_message() -> None:
    document = design_example()
    rules = document["rules"]
    assert isinstance(rules, list)
    rules[0]["message"] = {"en": "Update:\n\tnow", "he": "עדכנו את Firefox\u200f", "ar": "حدّث\u061c Firefox"}
    ruleset = parse_rules(json.dumps(document).encode("utf-8"))
    assert dict(ruleset.rules[0].message)["he"].endswith("\u200f")


def test_rules_validate_names_the_character_and_where_it_is(run_cli, tmp_path: Path) -> None:
    document = design_example()
    rules = document["rules"]
    assert isinstance(rules, list)
    rules[3]["message"] = {"en": "\x1b]0;owned\x07Update"}
    bad = tmp_path / "rules.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    result = run_cli("rules", "validate", str(bad))
    assert result.status == 3
    assert result.out.splitlines() == [
        f"{bad}: rules[3].message.en: control characters U+001B, U+0007",
        f"{bad}: invalid, 1 problem",
    ]


def test_keys_of_a_hostile_rule_file_are_shown_not_acted_on(run_cli, tmp_path: Path) -> None:
    # Unknown keys and language tags are the file's own text, quoted in every problem's location.
    document = design_example()
    rules = document["rules"]
    assert isinstance(rules, list)
    rules[0]["\x1b]0;owned\x07"] = 1
    rules[0]["message"] = {"\x1b[2J\u202e": "x"}
    bad = tmp_path / "rules.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    validate = run_cli("rules", "validate", str(bad))
    assert validate.status == 3
    assert f"{bad}: rules[0].\\x1b]0;owned\\x07: unknown key" in validate.out
    assert f"{bad}: rules[0].message.\\x1b[2JU+202E: is not a language tag" in validate.out
    check = run_cli("--rules", str(bad), "--format", "json", "--root", str(tmp_path), "--platform", "linux")
    assert check.status == 0
    for text in (validate.out, check.err, check.json()["rules"]["fallback_reason"]):
        assert raw_unsafe(text.replace("\n", "")) == []


# --- through the command line: a name read from the machine -------------------------------------------


def test_a_hostile_file_name_on_the_machine_reaches_no_terminal_raw(run_cli, tmp_path: Path) -> None:
    root = tmp_path / "root"
    applications = root / "home/u/.local/share/applications"
    applications.mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text("ID=debian\nNAME=Debian\nVERSION_ID=12\n")
    name = "ff\x1b]0;owned\x07\u202e.desktop"
    entry = "[Desktop Entry]\nType=Application\nExec=/opt/\x1b[2Jff/firefox %u\nCategories=WebBrowser;\n"
    (applications / name).write_text(entry, encoding="utf-8")
    for fmt in ("text", "nagios", "jamf", "csv", "html", "json"):
        result = run_cli("--root", str(root), "--platform", "linux", "--format", fmt, "--as-of", "2026-11-25")
        assert result.status in (0, 1), result.err
        assert "Firefox" in result.out, fmt  # found, judged unknown: its version cannot be read
        assert raw_unsafe(result.out.replace("\r\n", "\n")) == [], fmt
    assert os.path.exists(applications / name)
