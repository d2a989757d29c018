"""Inspect each captured Linux machine under tests/fixtures/linux and compare with its expected.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clientcheck.inspect import inspect_machine
from conftest import linux_cases


def _software_key(item: dict) -> tuple:
    return (item["product"], item.get("source"), item.get("package"), item.get("scope"))


@pytest.mark.parametrize("case", linux_cases(), ids=lambda path: path.name)
def test_inventory_matches_the_machine(case: Path):
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    inventory = inspect_machine("linux", case / "root", env={})

    os_expected = expected["os"]
    assert inventory.os.id == os_expected["id"]
    assert (str(inventory.os.version) if inventory.os.version else None) == os_expected.get("version")
    for key in ("name", "codename"):
        if key in os_expected:
            assert getattr(inventory.os, key) == os_expected[key], key
    if os_expected.get("version") is None:
        assert inventory.os.problem, "an OS without a version must say why"

    found = {
        _software_key({"product": i.product, "source": i.source, "package": i.package, "scope": i.scope}): i
        for i in inventory.software
    }
    wanted = {_software_key(item): item for item in expected["software"]}
    assert sorted(found, key=str) == sorted(wanted, key=str)
    for key, item in wanted.items():
        installation = found[key]
        version = str(installation.version) if installation.version else None
        assert version == item["version"], key
        assert installation.category == item["category"], key
        if "track" in item:
            assert installation.track == item["track"], key
        if item["version"] is None:
            assert installation.problem, f"{key}: an unknown version must say why"

    assert inventory.default_pdf == expected.get("default_pdf")


@pytest.mark.parametrize("case", linux_cases(), ids=lambda path: path.name)
def test_every_case_renders_and_judges_without_error(case: Path, run_cli):
    root = str(case / "root")
    for command in (["inventory"], ["check"]):
        for fmt in ("text", "json"):
            result = run_cli(*command, "--root", root, "--platform", "linux", "--format", fmt)
            assert result.status in (0, 1), result.err
            assert "Traceback" not in result.err
