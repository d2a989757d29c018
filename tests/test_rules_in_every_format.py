"""What every format says about the rules a report was judged by: dates at the ends of the calendar are
rendered, not an internal error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clientcheck.render import FORMATS
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
