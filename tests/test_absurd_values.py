"""Valid, or merely odd, input of absurd size gives a clear error or a finding marked unknown, never an
internal error (exit 70): numbers of thousands of digits (int() refuses past 4300), builds of 25 digits,
nesting 100,000 deep (recursion), durations of a trillion days (OverflowError)."""

from __future__ import annotations

import os
import plistlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from clientcheck import dates as dt
from clientcheck.config import Places, load_settings
from clientcheck.errors import ConfigError
from clientcheck.inspect import inspect_machine
from clientcheck.inspect.registry import ExportedRegistry
from clientcheck.rules import load_rules
from clientcheck.rules.generate.download import FEED_POLICY, fetch_json
from clientcheck.rules.generate.errors import FeedError, PolicyError
from clientcheck.rules.generate.policy import load_policy

HUGE = "9" * 5000
NOW = dt.datetime(2026, 11, 25, 9, tzinfo=dt.timezone.utc)
CURRENT_VERSION = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"


def _export(tmp_path: Path, current_version: str) -> Path:
    """A registry export as regedit writes it: UTF-16LE with a byte-order mark, CRLF line ends."""
    text = (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        f"[{CURRENT_VERSION}]\r\n{current_version}"
        '"ProductName"="Windows 10 Pro"\r\n"InstallationType"="Client"\r\n"DisplayVersion"="24H2"\r\n\r\n'
    )
    path = tmp_path / "registry.reg"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    return path


@pytest.mark.parametrize(
    "values",
    [
        pytest.param('"CurrentBuild"="1234567890123456789012345"\r\n"UBR"=dword:00000992\r\n', id="25-digit-build"),
        pytest.param(f'"CurrentBuild"="{HUGE}"\r\n', id="5000-digit-build"),
        pytest.param('"CurrentBuild"="26100"\r\n"UBR"=hex(b):ff,ff,ff,ff,ff,ff,ff,ff\r\n', id="qword-ubr-of-20-digits"),
        pytest.param(
            '"CurrentBuild"="26100"\r\n"CurrentMajorVersionNumber"=hex(b):ff,ff,ff,ff,ff,ff,ff,ff\r\n',
            id="qword-major",
        ),
    ],
)
def test_an_absurd_windows_build_is_an_unknown_os_not_an_internal_error(run_cli, tmp_path: Path, values: str):
    result = run_cli("--registry", str(_export(tmp_path, values)), "--format", "json")
    assert result.status == 0, result.err
    report = result.json()
    assert report["os"]["version"] is None
    assert report["os"]["problem"]
    (finding,) = [f for f in report["findings"] if f["product"] == "windows"]
    assert finding["status"] == "unknown"


def test_a_registry_number_of_thousands_of_digits_is_no_number():
    registry = ExportedRegistry({CURRENT_VERSION: {"UBR": (1, HUGE), "Small": (1, " 2454 "), "Hex": (1, "0x10")}})
    assert registry.integer(CURRENT_VERSION, "UBR") is None
    assert registry.integer(CURRENT_VERSION, "Small") == 2454
    assert registry.integer(CURRENT_VERSION, "Hex") is None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[login]\nhistory = " + "{a = " * 100_000 + "\n", id="inline-tables-100000-deep"),
        pytest.param("[login]\nhistory = " + "[" * 100_000 + "\n", id="arrays-100000-deep"),
        pytest.param("[login]\nhistory = " + "[" * 500 + "1" + "]" * 500 + "\n", id="arrays-500-deep-closed"),
    ],
)
def test_toml_nested_absurdly_deep_is_a_configuration_error(tmp_path: Path, text: str):
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_settings("linux", {}, {}, Places(machine=None, user=str(config), managed=None))
    assert raised.value.message.startswith(f"{config}: ")


def test_toml_nested_100000_deep_from_the_command_line(run_cli, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("[login]\nhistory = " + "{a = " * 100_000 + "\n")
    result = run_cli("inventory", "--config", str(config))
    assert (result.status, result.err) == (78, f"clientcheck: error: {config}: not valid TOML: nested too deeply\n")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param(f"history = {HUGE}", "not valid TOML: a number with too many digits", id="5000-digits"),
        pytest.param(
            "history = 0x" + "f" * 5000, "login.history: at most 10000, got a number of more than 100 digits", id="hex"
        ),
        pytest.param("history = 10001", "login.history: at most 10000, got 10001", id="just-past"),
        pytest.param(
            'delay = "99999999999999999999d"',
            "login.delay: at most 1d (86400 seconds), got '99999999999999999999d'",
            id="duration",
        ),
        pytest.param(
            "interval = 99999999999999999999",
            "login.interval: at most 366d (31622400 seconds), got 99999999999999999999",
            id="interval-seconds",
        ),
        pytest.param("history = -" + HUGE[:200], "login.history: must not be negative, got a number", id="negative"),
    ],
)
def test_absurd_numbers_in_a_config_file(tmp_path: Path, line: str, message: str):
    config = tmp_path / "config.toml"
    config.write_text(f"[login]\n{line}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings("linux", {}, {}, Places(machine=None, user=str(config), managed=None))
    assert raised.value.message.startswith(f"{config}: {message}")


def test_the_largest_values_allowed_are_taken(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[login]\nhistory = 10000\ndelay = "1d"\ninterval = "366d"\n')
    settings = load_settings("linux", {}, {}, Places(machine=None, user=str(config), managed=None))
    assert (settings["login.history"], settings["login.delay"], settings["login.interval"]) == (10000, 86400, 31622400)


def test_a_5000_digit_environment_variable(run_cli):
    result = run_cli("config", "show", env={"CLIENTCHECK_LOGIN_HISTORY": HUGE})
    assert result.status == 78
    assert result.err == (
        "clientcheck: error: environment variable CLIENTCHECK_LOGIN_HISTORY: login.history: at most 10000, "
        "got '999999999999999999999999999999'… (5000 characters)\n"
    )


def test_a_login_delay_of_a_trillion_days(run_cli):
    result = run_cli("login", "--delay", "99999999999999999999d")
    assert result.status == 2
    assert result.err.splitlines()[0] == (
        "clientcheck: error: --delay: at most 1d (86400 seconds), got '99999999999999999999d'"
    )
    assert run_cli("login", "--delay", HUGE).err.startswith("clientcheck: error: --delay: at most 1d")


def test_a_policy_nested_absurdly_deep(tmp_path: Path):
    for text, reason in (("[" * 100_000, "nested too deeply"), (HUGE, "a number with too many digits")):
        policy = tmp_path / "policy.json"
        policy.write_text(text)
        with pytest.raises(PolicyError) as raised:
            load_policy(str(policy))
        assert raised.value.problems == [f"invalid JSON: {reason}"]


def test_a_brave_bundle_version_of_thousands_of_digits_is_unknown(tmp_path: Path):
    root = tmp_path / "mac"
    core = root / "System/Library/CoreServices"
    core.mkdir(parents=True)
    (core / "SystemVersion.plist").write_bytes(
        plistlib.dumps({"ProductName": "macOS", "ProductVersion": "15.1.1", "ProductBuildVersion": "24B91"})
    )
    for name, version in (("Brave Browser.app", f"{HUGE}.181"), ("Brave Browser Nightly.app", "1²5.181")):
        contents = root / "Applications" / name / "Contents"
        contents.mkdir(parents=True)
        (contents / "Info.plist").write_bytes(
            plistlib.dumps({"CFBundleIdentifier": "com.brave.Browser", "CFBundleVersion": version})
        )
    inventory = inspect_machine("macos", str(root), env={})
    assert [(item.product, item.version) for item in inventory.software] == [("brave", None), ("brave", None)]
    assert all("not Brave's encoding" in (item.problem or "") for item in inventory.software)


# Numbers a server sends ----------------------------------------------------------------------------------


@pytest.fixture
def raw_server() -> Iterator[tuple[str, list[bytes]]]:
    """A plain-http server on 127.0.0.1 that answers every request with the next canned response."""
    answers: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(answers.pop(0) if answers else b"HTTP/1.1 500 Nothing left\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", answers
    listener.close()


def _answer(length: str, body: bytes = b"{}") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + b"Content-Length: "
        + length.encode("latin-1")
        + b"\r\n\r\n"
        + body
    )


def test_a_content_length_of_5000_digits_from_a_rule_server(raw_server, tmp_path: Path):
    base, answers = raw_server
    answers.append(_answer(HUGE))
    loaded = load_rules(
        f"{base}/rules.json", dt.date(2026, 11, 25), now=NOW, env=dict(os.environ), cache_folder=str(tmp_path / "cache")
    )
    assert loaded.info.source == "bundled"
    assert "a Content-Length of 5000 digits" in (loaded.info.fallback_reason or "")


def test_a_content_length_of_non_ascii_digits_from_a_rule_server_is_no_length(raw_server, tmp_path: Path):
    base, answers = raw_server
    answers.append(_answer("²"))  # a digit to str.isdigit, not to int()
    loaded = load_rules(
        f"{base}/rules.json", dt.date(2026, 11, 25), now=NOW, env=dict(os.environ), cache_folder=str(tmp_path / "cache")
    )
    assert loaded.info.source == "bundled"
    assert "Content-Length" not in (loaded.info.fallback_reason or "")
    assert "internal" not in (loaded.info.fallback_reason or "")


def test_absurd_numbers_from_a_feed(raw_server):
    base, answers = raw_server
    answers.append(_answer(HUGE))
    with pytest.raises(FeedError, match="more than the"):
        fetch_json(f"{base}/feed.json")
    assert FEED_POLICY.retry_wait(HUGE) == FEED_POLICY.retry_after_max
    assert FEED_POLICY.retry_wait("9" * 18) == FEED_POLICY.retry_after_max
