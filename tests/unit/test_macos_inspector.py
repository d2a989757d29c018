"""macOS detection rules on small trees built in the test with plistlib (binary and XML plists)."""

from __future__ import annotations

import plistlib
import shutil
from pathlib import Path

from clientcheck.inspect import inspect_machine
from conftest import FIXTURES

SEQUOIA = FIXTURES / "macos" / "macos-15-sequoia" / "root"
LAUNCH_SERVICES = "Library/Preferences/com.apple.LaunchServices/com.apple.launchservices.secure.plist"


def _plist(path: Path, value: dict, *, binary: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(plistlib.dumps(value, fmt=plistlib.FMT_BINARY if binary else plistlib.FMT_XML))


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(SEQUOIA, root, symlinks=True)
    return root


def _handlers(bundle_id: str) -> dict:
    return {"LSHandlers": [{"LSHandlerContentType": "com.adobe.pdf", "LSHandlerRoleAll": bundle_id}]}


def test_another_user_without_a_choice_does_not_hide_the_one_who_chose(tmp_path: Path):
    root = _copy(tmp_path)
    (root / "Users/bob").mkdir()
    assert inspect_machine("macos", str(root), env={}).default_pdf == "acrobat-reader"


def test_users_who_chose_differently_give_no_single_answer(tmp_path: Path):
    root = _copy(tmp_path)
    _plist(root / "Users/bob" / LAUNCH_SERVICES, _handlers("com.apple.preview"))
    assert inspect_machine("macos", str(root), env={}).default_pdf is None


def test_the_platform_copy_of_the_version_wins_over_a_compatibility_number(tmp_path: Path):
    root = _copy(tmp_path)
    core = root / "System/Library/CoreServices"
    real = plistlib.loads((core / "SystemVersion.plist").read_bytes())
    _plist(core / "SystemVersion.plist", {**real, "ProductVersion": "10.16"}, binary=False)
    _plist(core / ".SystemVersionPlatform.plist", real, binary=False)
    assert str(inspect_machine("macos", str(root), env={}).os.version) == "15.1.1"


def test_a_brave_version_that_is_not_braves_encoding_is_unknown(tmp_path: Path):
    root = _copy(tmp_path)
    info = root / "Applications/Brave Browser.app/Contents/Info.plist"
    plist = plistlib.loads(info.read_bytes())
    _plist(info, {**plist, "CFBundleVersion": "garbage"}, binary=False)
    brave = next(item for item in inspect_machine("macos", str(root), env={}).software if item.product == "brave")
    assert brave.version is None
    assert "not Brave's encoding" in (brave.problem or "")
