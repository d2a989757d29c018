"""Inspect each captured Windows machine under tests/fixtures/windows (a regedit export, and the disk's
files where captured) and compare with its expected.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clientcheck.errors import InputError
from clientcheck.inspect import inspect_machine
from conftest import FIXTURES

WINDOWS = FIXTURES / "windows"


def windows_cases(*, broken: bool) -> list[Path]:
    return sorted(
        path
        for path in WINDOWS.iterdir()
        if (path / "registry.reg").is_file() and path.name.startswith("broken-") == broken
    )


def _inspect(case: Path, *, with_disk: bool):
    root = str(case / "root") if with_disk and (case / "root").is_dir() else None
    return inspect_machine("windows", root, env={}, registry=str(case / "registry.reg"))


@pytest.mark.parametrize("with_disk", [True, False], ids=["export-and-disk", "export-only"])
@pytest.mark.parametrize("case", windows_cases(broken=False), ids=lambda path: path.name)
def test_inventory_matches_the_machine(case: Path, with_disk: bool):
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    inventory = _inspect(case, with_disk=with_disk)
    for key in ("id", "name", "track"):
        assert getattr(inventory.os, key) == expected["os"][key], key
    assert str(inventory.os.version) == expected["os"]["version"]
    found = {(item.product, item.scope): item for item in inventory.software}
    wanted = {(item["product"], item["scope"]): item for item in expected["software"]}
    assert sorted(found) == sorted(wanted)  # no phantom from stale or mangled entries, nothing missed
    for key, item in wanted.items():
        installation = found[key]
        assert str(installation.version) == item["version"], key
        assert installation.category == item["category"], key
        assert installation.track == item["track"], key
        assert (installation.source or "").startswith("registry"), key
    assert inventory.default_pdf == expected["default_pdf"]


@pytest.mark.parametrize("case", windows_cases(broken=True), ids=lambda path: path.name)
def test_a_broken_export_is_one_clear_error_naming_file_and_line(case: Path):
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    prefix = expected["error"].split(":", 1)[0]  # "line 94"
    with pytest.raises(InputError) as raised:
        _inspect(case, with_disk=False)
    assert raised.value.message.startswith(f"--registry {case / 'registry.reg'}: {prefix}: ")


@pytest.mark.parametrize("case", windows_cases(broken=False), ids=lambda path: path.name)
def test_every_machine_renders_and_judges(case: Path, run_cli):
    for command in ("inventory", "check"):
        for fmt in ("text", "json"):
            result = run_cli(
                command, "--registry", str(case / "registry.reg"), "--root", str(case / "root"), "--format", fmt
            )
            assert result.status in (0, 1), result.err


def test_windows_10_is_out_of_support_and_11_24h2_is_judged_by_build(run_cli):
    ten = run_cli("--registry", str(WINDOWS / "windows-10-22h2" / "registry.reg"), "--format", "json").json()
    verdict = {f["rule"]: f["status"] for f in ten["findings"]}
    assert verdict["windows"] == "unsupported"
    eleven = run_cli("--registry", str(WINDOWS / "windows-11-24h2" / "registry.reg"), "--format", "json").json()
    assert {f["rule"]: f["status"] for f in eleven["findings"]}["windows"] == "ok"
    server = run_cli("--registry", str(WINDOWS / "windows-server-2022" / "registry.reg"), "--format", "json").json()
    assert {f["rule"]: f["status"] for f in server["findings"]}["windows-server"] == "ok"


def test_a_broken_export_on_the_command_line(run_cli):
    result = run_cli("--registry", str(WINDOWS / "broken-truncated" / "registry.reg"))
    assert result.status == 4
    assert result.err.splitlines()[0].startswith("clientcheck: error: --registry ")
    assert ": line 94: " in result.err.splitlines()[0]
