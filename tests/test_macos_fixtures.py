"""Inspect each captured Mac under tests/fixtures/macos and compare with its expected.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clientcheck.inspect import inspect_machine
from conftest import FIXTURES

MACOS = FIXTURES / "macos"


def macos_cases() -> list[Path]:
    return sorted(path for path in MACOS.iterdir() if (path / "root").is_dir())


@pytest.mark.parametrize("case", macos_cases(), ids=lambda path: path.name)
def test_inventory_matches_the_mac(case: Path):
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    inventory = inspect_machine("macos", str(case / "root"), env={})
    assert inventory.os.id == "macos"
    assert (str(inventory.os.version) if inventory.os.version else None) == expected["os"]["version"]
    found = {(item.product, item.scope, item.package): item for item in inventory.software}
    wanted = {(item["product"], item["scope"], item["package"]): item for item in expected["software"]}
    assert sorted(found, key=str) == sorted(wanted, key=str)
    for key, item in wanted.items():
        installation = found[key]
        assert (str(installation.version) if installation.version else None) == item["version"], key
        assert installation.category == item["category"], key
        assert installation.track == item["track"], key
        if item["version"] is None:
            assert installation.problem, key
    assert inventory.default_pdf == expected["default_pdf"]


@pytest.mark.parametrize("case", macos_cases(), ids=lambda path: path.name)
def test_every_mac_renders_and_judges(case: Path, run_cli):
    for command in ("inventory", "check"):
        result = run_cli(command, "--root", str(case / "root"), "--platform", "macos", "--format", "json")
        assert result.status in (0, 1), result.err
