"""Configuration: every source (machine and user config.toml, environment, command line, managed policy on
each OS), their precedence, `config show`, and what a bad configuration gets: one clear error, exit 78."""

from __future__ import annotations

import json
import os
import plistlib
from pathlib import Path

import pytest
import tomllib

from clientcheck.config import Places, load_settings
from clientcheck.config.table import parse_duration
from clientcheck.errors import ConfigError
from clientcheck.inspect.formats.regfile import parse_reg
from clientcheck.inspect.registry import ExportedRegistry
from conftest import missing

FIXTURES = Path(__file__).parent / "fixtures"
DEBIAN = FIXTURES / "linux" / "debian-12-desktop" / "root"
CONFIG_ERROR = 78


@pytest.fixture
def places(tmp_path: Path) -> Places:
    (tmp_path / "etc-xdg").mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "etc").mkdir()
    return Places(
        machine=str(tmp_path / "etc-xdg" / "config.toml"),
        user=str(tmp_path / "home" / "config.toml"),
        managed=str(tmp_path / "etc" / "managed.toml"),
    )


def _write(path: str | None, text: str) -> None:
    assert path
    Path(path).write_text(text, encoding="utf-8")


def test_with_nothing_configured_the_defaults_apply(places: Places):
    settings = load_settings("linux", {}, {}, places)
    assert settings["report.format"] == "text"
    assert settings["rules.source"] is None
    assert settings["privacy.home_paths"] == "hide"
    assert settings["login.delay"] == 10
    assert settings["login.interval"] == 3600
    assert settings["login.notify"] is True
    assert {str(origin) for origin in settings.origins.values()} == {"default"}


def test_each_level_overrides_the_one_below(places: Places):
    _write(
        places.machine, '[report]\nformat = "csv"\nlanguage = "fr"\noutput = "/srv/machine.csv"\n[login]\ndelay = 1\n'
    )
    _write(places.user, '[report]\nformat = "json"\nlanguage = "de"\n[login]\ndelay = "2m"\n')
    env = {"CLIENTCHECK_REPORT_FORMAT": "html", "CLIENTCHECK_LOGIN_DELAY": "3h"}
    settings = load_settings("linux", env, {"--format": "nagios"}, places)
    assert settings["report.format"] == "nagios"
    assert str(settings.origins["report.format"]) == "command line: --format"
    assert settings["login.delay"] == 3 * 3600
    assert str(settings.origins["login.delay"]) == "environment: CLIENTCHECK_LOGIN_DELAY"
    assert settings["report.language"] == "de"
    assert str(settings.origins["report.language"]) == f"user: {places.user}"
    assert settings["report.output"] == "/srv/machine.csv"
    assert str(settings.origins["report.output"]) == f"machine: {places.machine}"
    assert settings.notes == []


def test_managed_policy_wins_over_everything_and_says_what_it_overrode(places: Places):
    _write(places.user, '[rules]\nsource = "/home/me/lenient.json"\n')
    _write(places.managed, '[rules]\nsource = "https://rules.example.com/v1/rules.json"\nkey = "RWQ..."\n')
    settings = load_settings(
        "linux", {"CLIENTCHECK_RULES_SOURCE": "/tmp/other.json"}, {"--rules": "/tmp/mine.json"}, places
    )
    assert settings["rules.source"] == "https://rules.example.com/v1/rules.json"
    assert str(settings.origins["rules.source"]) == f"managed: {places.managed}"
    assert settings.notes == [f"--rules is ignored: rules.source is set by managed policy ({places.managed})"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[report]\nfromat = "json"\n', "report.fromat: unknown setting"),
        ('[reports]\nformat = "json"\n', "reports.format: unknown setting"),
        ('format = "json"\n', "format: unknown setting"),
        ("[login]\ndelay = -5\n", "login.delay: must not be negative, got -5"),
        ('[login]\ndelay = "soon"\n', "login.delay: expected a duration like 30s, 15m, 4h or 1d, or seconds"),
        ('[login]\nnotify = "yes"\n', "login.notify: expected true or false, got 'yes'"),
        ("[login]\nhistory = 2.5\n", "login.history: expected a whole number, got 2.5"),
        ('[report]\nformat = "pdf"\n', "report.format: 'pdf' is not one of text, json, html"),
        ('[report]\nsinks = ["json"]\n', "report.sinks: 'json' is not FORMAT:FILE"),
        ('[report]\nsinks = "json:/x"\n', "report.sinks: expected a list"),
        ('[rules]\nsource = ""\n', "rules.source: expected a non-empty string"),
        ("[privacy.extra]\nx = 1\n", "privacy.extra: unknown setting"),
        ("[report\n", "not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 8)"),
        ('a = "unterminated\n', "not valid TOML"),
    ],
)
def test_a_bad_setting_is_an_error_naming_the_file_and_the_setting(places: Places, text: str, message: str):
    _write(places.user, text)
    with pytest.raises(ConfigError) as caught:
        load_settings("linux", {}, {}, places)
    assert caught.value.message.startswith(f"{places.user}: ")
    assert message in caught.value.message
    assert caught.value.exit_status == CONFIG_ERROR


def test_a_misspelt_setting_gets_a_suggestion(places: Places):
    _write(places.machine, '[rules]\nsorce = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings("linux", {}, {}, places)
    assert caught.value.hint == "did you mean rules.source?"


def test_a_file_that_is_not_utf8_or_not_a_file_is_an_error(places: Places):
    Path(places.user or "").write_bytes(b'[report]\nlanguage = "fran\xe7ais"\n')
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_settings("linux", {}, {}, places)
    Path(places.user or "").unlink()
    Path(places.user or "").mkdir()
    with pytest.raises(ConfigError, match="a folder, not a regular file"):
        load_settings("linux", {}, {}, places)


def test_a_file_another_user_could_have_written_is_not_trusted(places: Places, run_cli):
    # Settings say where the rules come from and which key signs them: a file anyone may write, or another
    # user's, could point a run at an attacker's rules. Group-writable stays allowed (a umask of 002).
    for path in (places.user, places.machine, places.managed):
        assert path
        _write(path, '[rules]\nsource = "https://rules.example.org/rules.json"\n')
        os.chmod(path, 0o666)  # noqa: S103 - the file under test is the careless one
        with pytest.raises(ConfigError, match=r"writable by every user: not trusted as settings \(chmod o-w it\)"):
            load_settings("linux", {}, {}, places)
        os.chmod(path, 0o664)
        assert load_settings("linux", {}, {}, places)["rules.source"] == "https://rules.example.org/rules.json"
        os.unlink(path)
    # Through the command line: one line, exit status 78.
    _write(places.user, "[login]\ndelay = 5\n")
    os.chmod(places.user or "", 0o646)  # noqa: S103 - the file under test is the careless one
    result = run_cli("config", "show", places=places)
    assert result.status == CONFIG_ERROR
    assert result.err.count("\n") == 1 and "writable by every user" in result.err, result.err


def test_a_settings_file_of_another_user_is_not_trusted_but_roots_is(places: Places):
    if os.geteuid() != 0:
        missing("giving a file to another user needs root")
    _write(places.user, "[login]\ndelay = 5\n")
    os.chown(places.user or "", 65534, 65534)  # nobody
    with pytest.raises(ConfigError, match=r"owned by another user \(uid 65534\): not trusted as settings"):
        load_settings("linux", {}, {}, places)
    os.chown(places.user or "", 0, 0)
    assert load_settings("linux", {}, {}, places)["login.delay"] == 5


def test_the_folders_above_a_settings_file_count_too(places: Places, tmp_path: Path):
    # Whoever may write a folder may rename another file into the settings' place.
    _write(places.user, "[login]\ndelay = 5\n")
    home = Path(places.user or "").parent
    os.chmod(home, 0o777)  # noqa: S103 - the folder under test is the careless one
    with pytest.raises(ConfigError, match=rf"its folder {home} is writable by every user: not trusted as settings"):
        load_settings("linux", {}, {}, places)
    os.chmod(home, 0o1777)  # noqa: S103 - sticky, as /tmp: only a file's owner may replace it there
    assert load_settings("linux", {}, {}, places)["login.delay"] == 5
    os.chmod(home, 0o700)


def test_for_root_a_group_that_is_not_roots_may_not_write_settings(places: Places):
    if os.geteuid() != 0:
        missing("a run as root is what this is about")
    _write(places.managed, "[login]\ndelay = 5\n")
    os.chmod(places.managed or "", 0o664)
    os.chown(places.managed or "", 0, 4)  # group adm, as a careless `chgrp adm` leaves it
    with pytest.raises(ConfigError, match=r"writable by group 4: not trusted as settings"):
        load_settings("linux", {}, {}, places)
    os.chown(places.managed or "", 0, 0)
    assert load_settings("linux", {}, {}, places)["login.delay"] == 5
    folder = Path(places.managed or "").parent
    os.chown(folder, 65534, 65534)  # a folder of nobody's above root's policy
    with pytest.raises(ConfigError, match=rf"its folder {folder} is owned by another user \(uid 65534\)"):
        load_settings("linux", {}, {}, places)
    os.chown(folder, 0, 0)


def test_environment_variables_are_checked_too(places: Places):
    with pytest.raises(ConfigError, match=r"environment variable CLIENTCHECK_LOGIN_NOTIFY: login\.notify"):
        load_settings("linux", {"CLIENTCHECK_LOGIN_NOTIFY": "perhaps"}, {}, places)
    with pytest.raises(ConfigError, match="CLIENTCHECK_RULE_SOURCE: not a clientcheck setting") as caught:
        load_settings("linux", {"CLIENTCHECK_RULE_SOURCE": "x"}, {}, places)
    assert caught.value.hint == "did you mean CLIENTCHECK_RULES_SOURCE?"
    # Variables read elsewhere, and unrelated ones, are not settings and not errors; empty ones unset.
    settings = load_settings(
        "linux",
        {"CLIENTCHECK_DEBUG": "1", "CLIENTCHECK_CACHE_DIR": "/tmp", "PATH": "/bin", "CLIENTCHECK_REPORT_FORMAT": ""},
        {},
        places,
    )
    assert settings["report.format"] == "text"
    settings = load_settings("linux", {"CLIENTCHECK_REPORT_SINKS": "json:/a.json; prometheus:/b.prom"}, {}, places)
    assert settings["report.sinks"] == (("json", "/a.json"), ("prometheus", "/b.prom"))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("4h", 14400), ("1d", 86400), (" 2 H ", 7200), ("0", 0)],
)
def test_durations(text: str, seconds: int):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1.5h", "-1m", "1w", "٣m", "1hh"])
def test_what_is_not_a_duration(text: str):
    assert parse_duration(text) is None


# A policy as Group Policy Preferences or an ADMX template writes it, exported with `reg export`: values
# under the key (dotted names) and under section subkeys, DWORDs for numbers, REG_MULTI_SZ for lists.
POLICY_REG = (
    "Windows Registry Editor Version 5.00\r\n\r\n"
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\clientcheck]\r\n"
    '"rules.key"="RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"\r\n\r\n'
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\clientcheck\\rules]\r\n"
    '"source"="https://rules.example.com/v1/rules.json"\r\n\r\n'
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\clientcheck\\login]\r\n"
    '"delay"=dword:0000003c\r\n'
    '"notify"=dword:00000000\r\n\r\n'
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\clientcheck\\report]\r\n"
    '"sinks"=hex(7):6a,00,73,00,6f,00,6e,00,3a,00,43,00,3a,00,5c,00,50,00,72,00,6f,00,67,00,72,00,61,00,\\\r\n'
    "  6d,00,44,00,61,00,74,00,61,00,5c,00,63,00,2e,00,6a,00,73,00,6f,00,6e,00,00,00,00,00\r\n\r\n"
    "[HKEY_CURRENT_USER\\SOFTWARE\\Policies\\clientcheck\\login]\r\n"
    '"delay"=dword:00000005\r\n'
    '"history"="3"\r\n\r\n'
)


def _registry(text: str) -> ExportedRegistry:
    return ExportedRegistry(parse_reg(b"\xff\xfe" + text.encode("utf-16-le")))


def test_windows_group_policy_is_read_through_the_registry_seam(places: Places):
    places = places.replace(managed=None, registry=_registry(POLICY_REG))
    settings = load_settings("windows", {}, {"--rules": "C:\\mine.json"}, places)
    assert settings["rules.source"] == "https://rules.example.com/v1/rules.json"
    assert settings["rules.key"].startswith("RWQf6LRCGA9i53ml")
    assert settings["login.delay"] == 60  # HKLM wins over HKCU's 5
    assert settings["login.notify"] is False
    assert settings["login.history"] == 3  # only HKCU's policy sets it; a REG_SZ number is read
    assert settings["report.sinks"] == (("json", "C:\\ProgramData\\c.json"),)
    machine_key = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\clientcheck"
    assert str(settings.origins["login.delay"]) == f"managed: {machine_key}"
    assert str(settings.origins["login.history"]) == "managed: HKEY_CURRENT_USER\\SOFTWARE\\Policies\\clientcheck"
    assert settings.notes == [f"--rules is ignored: rules.source is set by managed policy ({machine_key})"]


def test_a_policy_value_this_version_does_not_know_is_a_warning_naming_the_key(places: Places):
    # A fleet rolls a new agent out over weeks: a policy written for the new version must not stop the old
    # ones with exit 78 at every login. What this version does know of the same policy still applies.
    bad = (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\clientcheck\\login]\r\n"
        '"dealy"=dword:0000003c\r\n'
        '"history"=dword:00000004\r\n\r\n'
    )
    settings = load_settings("windows", {}, {}, places.replace(managed=None, registry=_registry(bad)))
    assert settings["login.history"] == 4
    assert settings["login.delay"] == 10
    [note] = settings.notes
    assert note.startswith(
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\clientcheck: login.dealy: unknown setting (did you mean "
        "login.delay?): ignored by clientcheck "
    )


def test_a_managed_toml_or_plist_setting_this_version_does_not_know_is_a_warning(tmp_path: Path, places: Places):
    _write(places.managed, '[report]\nserver = "https://fleet.example.com"\nzzz = true\n[newsection]\nx = 1\n')
    settings = load_settings("linux", {}, {}, places)
    assert settings["report.server"] == "https://fleet.example.com"
    assert [note.split(" (")[0].split(": ignored by")[0] for note in settings.notes] == [
        f"{places.managed}: report.zzz: unknown setting",
        f"{places.managed}: newsection.x: unknown setting",
    ]
    plist = tmp_path / "org.clientcheck.agent.plist"
    plist.write_bytes(plistlib.dumps({"report": {"server": "https://fleet.example.com", "nested": {"x": 1}}}))
    settings = load_settings("macos", {}, {}, places.replace(managed=str(plist)))
    assert settings["report.server"] == "https://fleet.example.com"
    assert [note.split(": ignored by")[0] for note in settings.notes] == [
        f"{plist}: report.nested: unknown setting (settings are two levels deep)"
    ]


def test_a_managed_value_of_the_wrong_kind_is_still_an_error(places: Places):
    # Ignoring it could silently weaken what the administrator asked for (a key, a CA bundle).
    _write(places.managed, "[report]\nserver = 5\n")
    with pytest.raises(ConfigError, match=r"report\.server: expected a non-empty string"):
        load_settings("linux", {}, {}, places)


def test_an_unknown_setting_in_the_users_own_file_is_still_an_error(places: Places):
    _write(places.user, "[report]\nfuture = true\n")
    with pytest.raises(ConfigError, match=r"report\.future: unknown setting"):
        load_settings("linux", {}, {}, places)


def test_the_collector_settings(places: Places, tmp_path: Path):
    _write(
        places.machine,
        '[report]\nserver = "https://fleet.example.com:8765"\nenroll_secret = "secret.txt"\n'
        'ca_bundle = "ca.pem"\n[privacy]\nhostname = "pseudonym"\n',
    )
    settings = load_settings("linux", {}, {}, places)
    folder = str(Path(places.machine).parent)
    assert settings["report.server"] == "https://fleet.example.com:8765"
    assert settings["report.enroll_secret"] == f"{folder}/secret.txt"  # relative to the file, as every path
    assert settings["report.ca_bundle"] == f"{folder}/ca.pem"
    assert settings["privacy.hostname"] == "pseudonym"
    env = {"CLIENTCHECK_REPORT_SERVER": "http://127.0.0.1:8765", "CLIENTCHECK_PRIVACY_HOSTNAME": "show"}
    settings = load_settings("linux", env, {}, places)
    assert settings["report.server"] == "http://127.0.0.1:8765"
    assert settings["privacy.hostname"] == "show"


@pytest.mark.parametrize("server", ["fleet.example.com", "ftp://fleet.example.com", "https://fleet example.com"])
def test_a_collector_that_is_no_address_is_an_error(places: Places, server: str):
    _write(places.user, f'[report]\nserver = "{server}"\n')
    with pytest.raises(ConfigError, match=r"report.server: .* is not an https:// address"):
        load_settings("linux", {}, {}, places)


@pytest.mark.parametrize("plist_format", [plistlib.FMT_XML, plistlib.FMT_BINARY])
def test_macos_managed_preferences(tmp_path: Path, places: Places, plist_format: plistlib.PlistFormat):
    # What a configuration profile's payload becomes in /Library/Managed Preferences: the payload's
    # keys (nested dictionaries or dotted names) plus the profile's own bookkeeping.
    managed = tmp_path / "org.clientcheck.agent.plist"
    payload = {
        "PayloadUUID": "7A0E8C8E-2B7C-4E0B-9E37-5B8B3C1F2D44",
        "rules": {"source": "https://rules.example.com/v1/rules.json"},
        "login.interval": "8h",
        "privacy": {"home_paths": "tilde"},
    }
    managed.write_bytes(plistlib.dumps(payload, fmt=plist_format))
    settings = load_settings("macos", {}, {}, places.replace(managed=str(managed)))
    assert settings["rules.source"] == "https://rules.example.com/v1/rules.json"
    assert settings["login.interval"] == 8 * 3600
    assert settings["privacy.home_paths"] == "tilde"
    assert str(settings.origins["privacy.home_paths"]) == f"managed: {managed}"


def test_a_broken_managed_plist_is_an_error(tmp_path: Path, places: Places):
    managed = tmp_path / "org.clientcheck.agent.plist"
    managed.write_bytes(plistlib.dumps({"rules": {"source": "x"}})[:-40])
    with pytest.raises(ConfigError, match=r"org\.clientcheck\.agent\.plist: not a property list"):
        load_settings("macos", {}, {}, places.replace(managed=str(managed)))
    managed.write_bytes(plistlib.dumps(["not", "a", "dict"]))
    with pytest.raises(ConfigError, match="not a dictionary of settings"):
        load_settings("macos", {}, {}, places.replace(managed=str(managed)))


# The command line, end to end.


def test_the_configured_format_output_and_sinks_are_used(run_cli, places: Places, tmp_path: Path):
    report = tmp_path / "report.json"
    prom = tmp_path / "clientcheck.prom"
    _write(
        places.user,
        f'[report]\nformat = "json"\noutput = "{report}"\nsinks = ["prometheus:{prom}", "csv:{tmp_path}/r.csv"]\n',
    )
    run = run_cli("check", places=places)  # this machine: sinks are its record (not a captured tree's)
    assert run.status in (0, 1)
    assert run.out == ""
    assert json.loads(report.read_text())["schema"] == "clientcheck.report/1"
    assert "clientcheck_rules_serial" in prom.read_text()
    assert (tmp_path / "r.csv").read_text().startswith("rule,")


def test_the_command_line_beats_the_configuration(run_cli, places: Places):
    _write(places.user, '[report]\nformat = "json"\nlanguage = "de"\n')
    run = run_cli("check", "--root", str(DEBIAN), "--platform", "linux", "--format", "jamf", places=places)
    assert run.out.startswith("<result>")
    run = run_cli("inventory", "--root", str(DEBIAN), "--platform", "linux", places=places)
    assert run.out.startswith("Debian")  # check's format is not inventory's


def test_a_bad_configuration_stops_the_run_with_status_78(run_cli, places: Places):
    _write(places.user, '[report]\nformat = "pdf"\n')
    run = run_cli("check", places=places)
    assert run.status == CONFIG_ERROR
    assert run.out == ""
    assert (
        run.err
        == f"clientcheck: error: {places.user}: report.format: 'pdf' is not one of "
        + ", ".join(["text", "json", "html", "nagios", "prometheus", "jamf", "intune", "csv", "ansible"])
        + "\n"
    )


def test_a_bad_configuration_under_nagios_is_unknown(run_cli, places: Places):
    _write(places.user, "[login]\ndelay = true\n")
    run = run_cli("check", "--format", "nagios", places=places)
    assert run.status == 3
    assert run.out.startswith("CLIENTCHECK UNKNOWN - ")


def test_config_flag_names_the_file_and_a_missing_one_is_an_error(run_cli, places: Places, tmp_path: Path):
    other = tmp_path / "other.toml"
    other.write_text('[report]\nformat = "jamf"\n')
    run = run_cli("config", "show", "--config", str(other), places=places)
    assert f'format = "jamf"  # user: {other}' in run.out
    run = run_cli("check", "--config", str(tmp_path / "missing.toml"), places=places)
    assert run.status == CONFIG_ERROR
    assert "missing.toml: no such file" in run.err
    run = run_cli("check", env={"CLIENTCHECK_CONFIG": str(tmp_path / "gone.toml")}, places=places)
    assert run.status == CONFIG_ERROR


def test_config_show_prints_a_config_file_with_origins(run_cli, places: Places):
    _write(places.managed, '[rules]\nsource = "https://rules.example.com/r.json"\n')
    _write(places.user, '[login]\ndelay = "45s"\n[report]\nsinks = ["json:/var/lib/clientcheck/r.json"]\n')
    run = run_cli("config", "show", env={"CLIENTCHECK_LOGIN_NOTIFY": "off"}, places=places)
    assert run.status == 0
    assert f'source = "https://rules.example.com/r.json"  # managed: {places.managed}' in run.out
    assert f"delay = 45  # user: {places.user}" in run.out
    assert "notify = false  # environment: CLIENTCHECK_LOGIN_NOTIFY" in run.out
    assert 'home_paths = "hide"  # default' in run.out
    # What it prints is itself a valid configuration file, with the same values.
    document = tomllib.loads(run.out)
    assert document["login"] == {"delay": 45, "interval": 3600, "notify": False, "history": 10}
    assert document["report"]["sinks"] == ["json:/var/lib/clientcheck/r.json"]
    Path(places.user or "").write_text(run.out)
    assert run_cli("config", "show", places=places).status == 0


def test_config_show_as_json(run_cli, places: Places):
    run = run_cli("config", "show", "--format", "json", env={"CLIENTCHECK_REPORT_FORMAT": "csv"}, places=places)
    document = json.loads(run.out)
    assert document["report.format"] == {
        "value": "csv",
        "origin": "environment",
        "where": "CLIENTCHECK_REPORT_FORMAT",
    }
    assert document["rules.source"] == {"value": None, "origin": "default", "where": None}


def test_a_plain_configuration_file_costs_no_tomllib_import(tmp_path: Path):
    # tomllib and platformdirs each cost more start-up time than a whole run: neither on the login path.
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text('[report]\nformat = "json"\nlanguage = "de"\n[login]\ndelay = "5s"\n')
    code = (
        "import sys, io; from clientcheck.cli import main; sys.stdout = io.StringIO(); status = main();"
        "sys.stdout = sys.__stdout__; print(status, sorted(m for m in ('tomllib', 'tomli', 'platformdirs',"
        " 'difflib', 'typing') if m in sys.modules))"
    )
    env = {"CLIENTCHECK_CONFIG": str(config), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.split(" ", 1)[1].strip() == "[]"
    assert out.split(" ", 1)[0] in ("0", "1")


def test_an_error_when_nagios_is_the_configured_format_is_unknown(run_cli, places: Places, tmp_path: Path):
    _write(places.user, f'[report]\nformat = "nagios"\noutput = "{tmp_path}/missing/out"\n')
    run = run_cli("check", "--root", str(DEBIAN), "--platform", "linux", places=places)
    assert run.status == 3
    assert run.out.startswith("CLIENTCHECK UNKNOWN - cannot write ")
    run = run_cli("check", "--root", "/nonexistent", env={"CLIENTCHECK_REPORT_FORMAT": "nagios"}, places=places)
    assert run.status == 3


def test_relative_paths_in_a_file_are_relative_to_that_file(places: Places, tmp_path: Path):
    (tmp_path / "home" / "corp.pub").write_text("untrusted comment: minisign public key\nRWQ...\n")
    _write(
        places.user,
        '[rules]\nsource = "rules/corp.json"\nca_bundle = "corp.pem"\nkey = "corp.pub"\n'
        '[report]\noutput = "out/report.txt"\nsinks = ["json:copies/r.json"]\n',
    )
    _write(places.machine, '[rules]\nkey = "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"\n')
    settings = load_settings("linux", {"CLIENTCHECK_RULES_CA_BUNDLE": "cwd.pem"}, {}, places)
    home = tmp_path / "home"
    assert settings["rules.source"] == str(home / "rules" / "corp.json")
    assert settings["rules.key"] == str(home / "corp.pub")
    assert settings["report.output"] == str(home / "out" / "report.txt")
    assert settings["report.sinks"] == (("json", str(home / "copies" / "r.json")),)
    assert settings["rules.ca_bundle"] == "cwd.pem"  # the environment's, like the command line's: as given
    (home / "corp.pub").unlink()
    _write(places.user, '[rules]\nsource = "https://rules.example.com/r.json"\n')
    settings = load_settings("linux", {}, {}, places)
    assert settings["rules.source"] == "https://rules.example.com/r.json"
    assert settings["rules.key"] == "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"  # a key, not a file


def test_the_packaging_recipes_variables_are_not_settings(places: Places):
    env = {"CLIENTCHECK_BUILD_TARGET_ARCH": "universal2", "CLIENTCHECK_BUILD_WINDOWLESS": "1"}
    assert load_settings("linux", env, {}, places)["report.format"] == "text"


def test_the_collectors_variables_are_not_settings(places: Places):
    env = {"CLIENTCHECK_SERVER_DATA": "/var/lib/clientcheck-server", "CLIENTCHECK_SERVER_DATABASE": "postgresql://db/x"}
    assert load_settings("linux", env, {}, places)["report.format"] == "text"


def test_only_the_winning_policy_is_named_when_an_option_is_overridden(places: Places):
    both = POLICY_REG + (
        "[HKEY_CURRENT_USER\\SOFTWARE\\Policies\\clientcheck\\rules]\r\n"
        '"source"="https://other.example.com/r.json"\r\n\r\n'
    )
    settings = load_settings(
        "windows", {}, {"--rules": "C:\\mine.json"}, places.replace(managed=None, registry=_registry(both))
    )
    assert settings.notes == [
        "--rules is ignored: rules.source is set by managed policy "
        "(HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\clientcheck)"
    ]


def test_the_format_in_force_decides_how_errors_read(run_cli, places: Places):
    run = run_cli(
        "check", "--format", "json", "--platform", "macos", env={"CLIENTCHECK_REPORT_FORMAT": "nagios"}, places=places
    )
    assert run.status == 2  # a usage error, as the json format in force reports it
    assert run.out == ""


def test_sinks_are_this_machines_record_only(run_cli, places: Places, tmp_path: Path):
    sink = tmp_path / "fleet.json"
    _write(places.user, f'[report]\nsinks = ["json:{sink}"]\n')
    run = run_cli("check", "--root", str(DEBIAN), "--platform", "linux", places=places)
    assert run.err.endswith("warning: report.sinks not written: this run judges a captured machine or another day\n")
    assert not sink.exists()
    run = run_cli("check", "--as-of", "2030-01-01", places=places)
    assert not sink.exists()
    run_cli("check", places=places)
    assert json.loads(sink.read_text())["schema"] == "clientcheck.report/1"
