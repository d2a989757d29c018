"""A rule file's serial has a ceiling (2**53 - 1): a date-like serial passes, a 4,000-digit one that would
make every later file look like a rollback does not. The agent and the published schema agree."""

from __future__ import annotations

import json

import pytest
from test_rules_schema import agent_problems, design_example, schema_accepts

from clientcheck.rules import parse_rules
from clientcheck.rules.validate import MAX_SERIAL


@pytest.mark.parametrize("serial", [0, 7, 2026112501, 20261125093000, MAX_SERIAL])
def test_serials_up_to_the_ceiling_are_valid(serial: int):
    document = design_example()
    document["serial"] = serial
    assert agent_problems(document) == []
    assert schema_accepts(document)
    assert parse_rules(json.dumps(document).encode()).serial == serial


@pytest.mark.parametrize(
    ("serial", "problem"),
    [
        (MAX_SERIAL + 1, f"serial: must be at most {MAX_SERIAL}, not {MAX_SERIAL + 1}"),
        (10**30, f"serial: must be at most {MAX_SERIAL}, not a 31-digit number"),
        (10**3999, f"serial: must be at most {MAX_SERIAL}, not a 4000-digit number"),
    ],
)
def test_a_serial_above_the_ceiling_is_refused(serial: int, problem: str):
    document = design_example()
    document["serial"] = serial
    assert agent_problems(document) == [problem]
    assert not schema_accepts(document)


def test_the_ceiling_is_the_largest_integer_json_readers_hold_exactly():
    assert MAX_SERIAL == 2**53 - 1
    assert float(MAX_SERIAL) == MAX_SERIAL and float(MAX_SERIAL + 2) != MAX_SERIAL + 2
