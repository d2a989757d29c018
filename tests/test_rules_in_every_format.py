"""What every format says about the rules a report was judged by: dates at the ends of the calendar are
rendered, not an internal error; rules that expired, fell back to others, or are dated after today are said
in every format (and make Nagios say WARNING)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from clientcheck.config.table import FORMATS
from conftest import DESIGN_EXAMPLE, LINUX_FIXTURES

DEBIAN = str(LINUX_FIXTURES / "debian-12-desktop" / "root")


def rules_file(tmp_path: Path, **changes: object) -> str:
    document = json.loads(DESIGN_EXAMPLE.read_text(encoding="utf-8"))
    document.update(changes)
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize(
    ("published", "expires", "as_of"),
    [
        ("2026-11-20", "9999-12-31", "2026-11-25"),
        ("2026-11-20", "9999-12-31", "9999-12-31"),
        ("0001-01-01", "0001-01-01", "2026-11-25"),
        ("9999-12-31", "9999-12-31", "0001-01-01"),
    ],
    ids=["expires-last-day", "judged-on-the-last-day", "first-day", "judged-on-the-first-day"],
)
def test_dates_at_the_ends_of_the_calendar_are_rendered(run_cli, tmp_path, format_name, published, expires, as_of):
    rules = rules_file(tmp_path, published=published, expires=expires)
    args = ("--root", DEBIAN, "--platform", "linux", "--rules", rules, "--as-of", as_of, "--format", format_name)
    result = run_cli(*args)
    assert "internal error" not in result.err
    assert result.status in (0, 1, 2), result.err  # nagios says WARNING (1) or CRITICAL (2) by its own rules
    assert result.out.endswith("\n")
    if format_name == "prometheus":
        expiry = next(line for line in result.out.splitlines() if line.startswith("clientcheck_rules_expiry_"))
        assert expiry.split()[1] == ("253402300800" if expires == "9999-12-31" else "-62135510400")


# --- rules in doubt: expired, fallen back, dated after today ----------------------------------------------
# Each is said in every format, and Nagios says WARNING however well the machine is doing.

ALPINE_RELEASE = 'ID=alpine\nNAME="Alpine Linux"\nVERSION_ID=3.12.0\n'
DEBIAN_ONLY = [{"id": "debian", "product": "debian", "minimum": "12"}]  # the fixture meets it: all is ok


def _alpine(tmp_path: Path) -> str:
    root = tmp_path / "alpine"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(ALPINE_RELEASE, encoding="utf-8")
    return str(root)


def _stale(run_cli, tmp_path: Path, format_name: str):
    rules = rules_file(tmp_path, published="2026-08-01", expires="2026-11-01", rules=DEBIAN_ONLY)
    return run_cli("--root", DEBIAN, "--platform", "linux", "--rules", rules, "--format", format_name)


def _fallen_back(run_cli, tmp_path: Path, format_name: str):
    invalid = tmp_path / "rules.json"
    invalid.write_text("{", encoding="utf-8")
    # Alpine: no rule names it, so the bundled rules find nothing owed.
    return run_cli("--root", _alpine(tmp_path), "--platform", "linux", "--rules", str(invalid), "--format", format_name)


def _clock_set_back(run_cli, tmp_path: Path, format_name: str):
    # The case: published 2026-11-20, expires 2026-11-30, and this machine's clock says 2020.
    rules = rules_file(tmp_path, published="2026-11-20", expires="2026-11-30", rules=DEBIAN_ONLY)
    args = ("--root", DEBIAN, "--platform", "linux", "--rules", rules, "--format", format_name)
    return run_cli(*args, now=dt.datetime(2020, 1, 1, 8, 0, tzinfo=dt.timezone.utc))


CASES = {"stale": _stale, "fallback": _fallen_back, "future": _clock_set_back}
EXPECTED = {
    # format: {case: what it says}
    "text": {
        "stale": "Note: these rules expired on November 1, 2026 (24 days ago); newer minimums may exist\n",
        "fallback": ": line 1 column 2: invalid JSON: Expecting property name enclosed in double quotes; using the",
        "future": "Note: these rules were published on November 20, 2026, after today (January 1, 2020): this",
    },
    "html": {
        "stale": '<p class="note">Note: these rules expired on November 1, 2026 (24 days ago); newer minimums may'
        " exist</p>",
        "fallback": "using the bundled rules instead</p>",
        "future": "after today (January 1, 2020): this computer&#x27;s clock may be wrong",
    },
    "nagios": {
        "stale": "CLIENTCHECK WARNING - nothing owed on Debian GNU/Linux 12.8; rules expired 2026-11-01 | ",
        "fallback": "WARNING - nothing owed on Alpine Linux 3.12.0; rules fell back to the bundled rules | ",
        "future": "WARNING - nothing owed on Debian GNU/Linux 12.8; rules dated 2026-11-20, after 2020-01-01: check",
    },
    "jamf": {
        "stale": "<result>WARNING: rules expired 2026-11-01</result>\n",
        "fallback": "<result>WARNING: rules fell back to the bundled rules</result>\n",
        "future": "<result>WARNING: rules dated 2026-11-20, after 2020-01-01: check the clock</result>\n",
    },
    "intune": {
        "stale": '"RulesStale":true,"RulesFallback":false,"RulesPublishedInFuture":false',
        "fallback": '"RulesStale":false,"RulesFallback":true,"RulesPublishedInFuture":false',
        "future": '"RulesStale":false,"RulesFallback":false,"RulesPublishedInFuture":true',
    },
    "csv": {
        "stale": ",these rules expired on 2026-11-01 (24 days ago); newer minimums may exist,,,,rules,,\r\n",
        "fallback": "using the bundled rules instead,,,,rules,,\r\n",
        "future": 'or the rule file is not genuine",,,,rules,,\r\n',  # quoted: the sentence holds a comma
    },
    "prometheus": {
        "stale": "\nclientcheck_rules_stale 1\n",
        "fallback": "\nclientcheck_rules_fallback 1\n",
        "future": "\nclientcheck_rules_published_in_future 1\n",
    },
    "ansible": {
        "stale": '"stale":true,',
        "fallback": '"fallback_reason":"',
        "future": '"published_in_future":true}',
    },
    "json": {
        "stale": '"stale":true,',
        "fallback": '"fallback_reason":"',
        "future": '"published_in_future":true}',
    },
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("format_name", FORMATS)
def test_rules_in_doubt_are_said_in_every_format(run_cli, tmp_path, format_name, case):
    result = CASES[case](run_cli, tmp_path, format_name)
    assert result.status == (1 if format_name == "nagios" else 0), result.err  # Nagios: WARNING
    assert EXPECTED[format_name][case] in result.out
    assert "All up to date" not in result.out and "<result>OK</result>" not in result.out


@pytest.mark.parametrize("format_name", FORMATS)
def test_current_rules_asked_for_are_not_in_doubt(run_cli, tmp_path, format_name):
    rules = rules_file(tmp_path, rules=DEBIAN_ONLY)
    result = run_cli("--root", DEBIAN, "--platform", "linux", "--rules", rules, "--format", format_name)
    assert result.status == 0
    for case in CASES:
        assert EXPECTED[format_name][case] not in result.out


def test_rules_validate_says_when_a_file_is_dated_after_today(run_cli, tmp_path):
    rules = rules_file(tmp_path, published="9999-12-30", expires="9999-12-31")
    result = run_cli("rules", "validate", rules)
    assert result.status == 0
    assert result.out.endswith("expires 9999-12-31 (published 9999-12-30, after today)\n")
