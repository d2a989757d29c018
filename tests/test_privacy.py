"""Reports carry no user names and no paths inside home folders, unless configured: in every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clientcheck.config.table import FORMATS
from clientcheck.privacy import Redactor

FIXTURES = Path(__file__).parent / "fixtures"
FLATPAK_USER = FIXTURES / "linux" / "flatpak-only-user" / "root"  # carol's user flatpaks, her mimeapps.list
WINDOWS = FIXTURES / "windows" / "windows-11-24h2"  # alex's per-user Chrome, his UserChoice under HKEY_USERS
SID = "S-1-5-21-2419357628-1493862211-3927542107-1001"


def _linux(run_cli, *args: str, mode: str | None = None):
    env = {"CLIENTCHECK_PRIVACY_HOME_PATHS": mode} if mode else {}
    return run_cli(*args, "--root", str(FLATPAK_USER), "--platform", "linux", env=env)


def _windows(run_cli, *args: str, mode: str | None = None):
    env = {"CLIENTCHECK_PRIVACY_HOME_PATHS": mode} if mode else {}
    return run_cli(*args, "--registry", str(WINDOWS / "registry.reg"), "--root", str(WINDOWS / "root"), env=env)


@pytest.mark.parametrize("fmt", FORMATS)
def test_by_default_no_format_names_the_user(run_cli, fmt: str):
    for out in (_linux(run_cli, "check", "--format", fmt).out, _windows(run_cli, "check", "--format", fmt).out):
        assert out
        for secret in ("carol", "alex", SID, "/home/", "\\Users\\"):
            assert secret not in out


@pytest.mark.parametrize("fmt", ["text", "json", "csv"])
def test_the_inventory_too(run_cli, fmt: str):
    out = _linux(run_cli, "inventory", "--format", fmt).out + _windows(run_cli, "inventory", "--format", fmt).out
    assert "carol" not in out
    assert "alex" not in out


def test_hidden_paths_are_left_out_and_everything_else_is_kept(run_cli):
    report = _linux(run_cli, "check", "--format", "json").json()
    by_product = {item["product"]: item for item in report["software"]}
    assert by_product["firefox"]["path"] is None
    assert by_product["firefox"]["scope"] == "user"
    assert by_product["firefox"]["version"] == "132.0.2"
    assert by_product["firefox"]["package"] == "org.mozilla.firefox"
    assert by_product["evince"]["path"] == "/var/lib/flatpak/app/org.gnome.Evince"  # a system install: kept
    assert report["default_pdf_viewer_source"] == "~/.config/mimeapps.list"
    windows = _windows(run_cli, "check", "--format", "json").json()
    assert windows["default_pdf_viewer_source"].startswith("HKEY_USERS\\<SID>\\Software\\Microsoft\\Windows\\")
    chrome = next(item for item in windows["software"] if item["product"] == "chrome")
    assert (chrome["path"], chrome["scope"], chrome["version"]) == (None, "user", chrome["version"])
    assert chrome["version"]


def test_tilde_keeps_the_path_without_the_user(run_cli):
    report = _linux(run_cli, "check", "--format", "json", mode="tilde").json()
    paths = {item["product"]: item["path"] for item in report["software"]}
    assert paths["firefox"] == "~/.local/share/flatpak/app/org.mozilla.firefox"
    windows = _windows(run_cli, "check", "--format", "json", mode="tilde").json()
    chrome = next(item for item in windows["software"] if item["product"] == "chrome")
    assert chrome["path"] == "~\\AppData\\Local\\Google\\Chrome\\Application"


def test_show_keeps_everything(run_cli):
    report = _linux(run_cli, "check", "--format", "json", mode="show").json()
    paths = {item["product"]: item["path"] for item in report["software"]}
    assert paths["firefox"] == "/home/carol/.local/share/flatpak/app/org.mozilla.firefox"
    assert report["default_pdf_viewer_source"] == "/home/carol/.config/mimeapps.list"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/home/alice/.local/bin/app", "~/.local/bin/app"),
        ("/home/alice", "~"),
        (
            "cannot read /home/bob/.config/mimeapps.list: Permission denied",
            "cannot read ~/.config/mimeapps.list: Permission denied",
        ),
        ("/var/home/dana/.var/app/x and /home/eve/y", "~/.var/app/x and ~/y"),
        ("/Users/frank/Applications/Firefox.app", "~/Applications/Firefox.app"),
        ("/root/.config/x", "~/.config/x"),
        ("/rootfs/usr/bin/x", "/rootfs/usr/bin/x"),
        ("C:\\Users\\grace\\AppData\\Local\\Programs", "~\\AppData\\Local\\Programs"),
        ("d:\\USERS\\heidi\\x", "~\\x"),
        ("C:\\Documents and Settings\\ivan\\x", "~\\x"),
        ("'/mnt/disk/home/judy/.local/share/flatpak'", "'~/.local/share/flatpak'"),
        ("HKEY_USERS\\S-1-12-1-1-2-3-4\\Software\\Classes", "HKEY_USERS\\<SID>\\Software\\Classes"),
        ("/usr/lib/firefox/firefox", "/usr/lib/firefox/firefox"),
        ("/home/", "/home/"),
        ("", ""),
        ("/srv/people/kim/app (from $HOME)", "~/app (from $HOME)"),
    ],
)
def test_text_redaction(text: str, expected: str):
    assert Redactor("hide", {"HOME": "/srv/people/kim"}).text(text) == expected
    assert Redactor("show", {"HOME": "/srv/people/kim"}).text(text) == text


def test_path_redaction():
    hide, tilde = Redactor("hide", {}), Redactor("tilde", {})
    assert hide.path("/home/alice/x") is None
    assert tilde.path("/home/alice/x") == "~/x"
    assert hide.path("/opt/google/chrome") == "/opt/google/chrome"
    assert hide.path(None) is None


def test_report_json_still_matches_its_schema_when_redacted(run_cli):
    import jsonschema

    data = Path(__file__).parents[1] / "agent" / "clientcheck" / "data"
    schema = json.loads((data / "report.schema.json").read_text())
    for run in (_linux(run_cli, "check", "--format", "json"), _windows(run_cli, "check", "--format", "json")):
        jsonschema.validate(run.json(), schema)


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        (
            "C:\\Users\\John Smith\\AppData\\Local\\chrome.exe: cannot read",
            {},
            "~\\AppData\\Local\\chrome.exe: cannot read",
        ),
        ("c:\\users\\john smith\\x", {"USERPROFILE": "C:\\Users\\John Smith"}, "~\\x"),
        ("D:\\Profiles\\John Smith\\x", {"USERPROFILE": "d:\\profiles\\john smith"}, "~\\x"),
        ("see C:\\Users\\O'Brien", {}, "see ~"),
    ],
)
def test_windows_names_with_spaces_and_any_case(text: str, env: dict[str, str], expected: str):
    assert Redactor("hide", env).text(text) == expected
