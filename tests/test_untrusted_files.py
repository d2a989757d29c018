"""Files a run is given or finds outside --root (rule files, configuration, keys, signatures, registry
exports, policies, the CA bundle) are read only when they are regular files, and never past a cap: a FIFO
in their place is refused at once instead of hanging the run (at every login, for the user's
config.toml), and a device such as /dev/zero is refused instead of read until memory runs out."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from clientcheck import dates as dt
from clientcheck.config import ConfigError, Places, default_places, load_settings
from clientcheck.reading import FileProblem, check_file, read_file, read_text
from clientcheck.rules import load_rules
from clientcheck.rules.generate.errors import PolicyError
from clientcheck.rules.generate.policy import load_policy
from conftest import DESIGN_EXAMPLE, NOW

FIFO_REFUSED = "a named pipe (FIFO), not a regular file"


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    """A read that blocks (the bug these tests are about) fails the test instead of hanging the suite."""

    def blocked(signum: int, frame: object) -> None:
        raise TimeoutError("a read blocked: a FIFO or device was opened as if it were a file")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


# The reader itself -------------------------------------------------------------------------------------


def test_a_regular_file_is_read_whole_and_a_symlink_to_one_is_followed(tmp_path: Path):
    data = bytes(range(256)) * 1000
    (tmp_path / "file").write_bytes(data)
    (tmp_path / "link").symlink_to(tmp_path / "file")
    assert read_file(str(tmp_path / "file"), len(data)) == data
    assert read_file(str(tmp_path / "link"), len(data)) == data
    assert read_file(str(tmp_path / "file"), 10 * len(data)) == data


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(lambda path: os.mkfifo(path), FIFO_REFUSED, id="fifo"),
        pytest.param(lambda path: path.mkdir(), "a folder, not a regular file", id="folder"),
        pytest.param(lambda path: path.symlink_to("/dev/zero"), "a device, not a regular file", id="dev-zero"),
        pytest.param(lambda path: path.symlink_to(os.devnull), "a device, not a regular file", id="dev-null"),
        pytest.param(lambda path: path.write_bytes(b"x" * 1025), "larger than 1 KiB", id="one-byte-too-many"),
        pytest.param(lambda path: None, "cannot read: No such file or directory", id="missing"),
    ],
)
def test_anything_but_a_regular_file_within_the_cap_is_refused_in_one_line(tmp_path: Path, make, reason: str):
    path = tmp_path / "input"
    make(path)
    with pytest.raises(FileProblem) as raised:
        read_file(str(path), 1024)
    assert raised.value.reason == reason
    assert raised.value.missing == (reason.startswith("cannot read: No such"))
    assert str(raised.value) == f"{path}: {reason}"


def test_a_socket_is_refused(tmp_path: Path):
    path = tmp_path / "socket"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        with pytest.raises(FileProblem, match="a socket, not a regular file"):
            check_file(str(path), 1024)


def test_text_must_be_utf8_and_a_byte_order_mark_is_dropped(tmp_path: Path):
    (tmp_path / "bom").write_bytes(b"\xef\xbb\xbfkey")
    assert read_text(str(tmp_path / "bom"), 100) == "key"
    (tmp_path / "latin1").write_bytes(b"caf\xe9")
    with pytest.raises(FileProblem, match=r"not UTF-8 text \(byte 3\)"):
        read_text(str(tmp_path / "latin1"), 100)


# Every place that reads such a file ----------------------------------------------------------------------


def test_rules_and_rules_validate(run_cli, fifo: Path):
    validated = run_cli("rules", "validate", str(fifo))
    assert validated.status == 3
    assert f"{fifo}: {FIFO_REFUSED}" in validated.out
    judged = run_cli("--rules", str(fifo), "--format", "json")
    # Refused at once and named; whether the run then falls back or stops is the rule source's to decide.
    assert f"{fifo}: {FIFO_REFUSED}" in judged.err
    assert judged.status != 70


def test_registry_export(run_cli, fifo: Path, tmp_path: Path):
    for path, reason in ((str(fifo), FIFO_REFUSED), ("/dev/zero", "a device, not a regular file")):
        result = run_cli("--registry", path)
        assert result.status == 4
        assert f"clientcheck: error: --registry {path}: {reason}\n" in result.err
    huge = tmp_path / "huge.reg"
    with open(huge, "wb") as stream:  # sparse: a gigabyte that takes no room
        stream.truncate(1024 * 1024 * 1024 + 1)
    result = run_cli("--registry", str(huge))
    assert (result.status, result.err.splitlines()[0]) == (
        4,
        f"clientcheck: error: --registry {huge}: larger than 1024 MiB",
    )


def test_config_option_and_variable(run_cli, fifo: Path, tmp_path: Path):
    result = run_cli("inventory", "--config", str(fifo))
    assert (result.status, result.err) == (78, f"clientcheck: error: {fifo}: {FIFO_REFUSED}\n")
    env = {"CLIENTCHECK_CONFIG": str(fifo)}
    places = default_places("linux", env).replace(machine=str(tmp_path / "m.toml"), managed=str(tmp_path / "p.toml"))
    assert places.user == str(fifo)
    result = run_cli("inventory", env=env, places=places)
    assert (result.status, result.err) == (78, f"clientcheck: error: {fifo}: {FIFO_REFUSED}\n")


def test_a_fifo_at_the_users_config_toml_does_not_hang_login(run_cli, tmp_path: Path):
    env = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    places = default_places("linux", env).replace(
        machine=str(tmp_path / "etc/config.toml"), managed=str(tmp_path / "etc/managed.toml")
    )
    assert places.user == str(tmp_path / "config/clientcheck/config.toml")  # the default place, from XDG
    os.makedirs(tmp_path / "config/clientcheck")
    os.mkfifo(places.user)
    result = run_cli("login", env=env, places=places)
    assert result.status == 78
    assert result.err == f"clientcheck: error: {places.user}: {FIFO_REFUSED}\n"
    assert not (tmp_path / "home").exists()  # refused before anything ran


@pytest.mark.parametrize("where", ["machine", "managed"])
def test_machine_and_managed_configuration(tmp_path: Path, where: str):
    places = Places(machine=str(tmp_path / "machine.toml"), user=None, managed=str(tmp_path / f"{where}-policy.plist"))
    if where == "machine":
        os.mkfifo(places.machine or "")
    else:
        (tmp_path / f"{where}-policy.plist").symlink_to("/dev/zero")
    with pytest.raises(ConfigError) as raised:
        load_settings("linux", {}, {}, places)
    reason = FIFO_REFUSED if where == "machine" else "a device, not a regular file"
    path = places.machine if where == "machine" else places.managed
    assert raised.value.message == f"{path}: {reason}"


def test_managed_toml_larger_than_the_cap(tmp_path: Path):
    managed = tmp_path / "managed.toml"
    managed.write_bytes(b"# padding\n" * 110_000)
    with pytest.raises(ConfigError, match="larger than 1 MiB: not a configuration file"):
        load_settings("linux", {}, {}, Places(machine=None, user=None, managed=str(managed)))


def test_signature_and_key_files_when_a_key_is_pinned(run_cli, tmp_path: Path):
    minisign = pytest.importorskip("clientcheck.rules.minisign")
    public, secret = minisign.generate_keypair()
    rules = tmp_path / "rules.json"
    rules.write_bytes(DESIGN_EXAMPLE.read_bytes())
    os.mkfifo(tmp_path / "rules.json.minisig")
    result = run_cli("--rules", str(rules), "--rules-key", public.splitlines()[-1], "--format", "json")
    assert f"{rules}.minisig: {FIFO_REFUSED}" in result.err
    assert result.status != 70
    (tmp_path / "rules.json.minisig").unlink()
    (tmp_path / "rules.json.minisig").write_text(minisign.sign(rules.read_bytes(), secret, "ok"))
    os.mkfifo(tmp_path / "key.pub")
    refused = run_cli("--rules", str(rules), "--rules-key", str(tmp_path / "key.pub"))
    assert (refused.status, refused.err) == (
        2,
        f"clientcheck: error: --rules-key {tmp_path / 'key.pub'}: {FIFO_REFUSED}\n",
    )


def test_rules_sign_and_verify(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules.json").write_bytes(DESIGN_EXAMPLE.read_bytes())
    os.mkfifo(tmp_path / "secret.key")
    signed = run_cli("rules", "sign", "rules.json", "--secret", "secret.key")
    assert (signed.status, signed.err) == (4, f"clientcheck: error: --secret secret.key: {FIFO_REFUSED}\n")
    assert run_cli("rules", "keygen").status == 0
    assert run_cli("rules", "sign", "rules.json").status == 0
    os.mkfifo(tmp_path / "fifo.pub")
    verified = run_cli("rules", "verify", "rules.json", "--key", "fifo.pub")
    assert (verified.status, verified.err) == (4, f"clientcheck: error: --key fifo.pub: {FIFO_REFUSED}\n")
    os.unlink(tmp_path / "rules.json.minisig")
    os.mkfifo(tmp_path / "rules.json.minisig")
    verified = run_cli("rules", "verify", "rules.json", "--key", "clientcheck.pub")
    assert (verified.status, verified.err) == (
        4,
        f"clientcheck: error: signature rules.json.minisig: {FIFO_REFUSED}\n",
    )
    os.unlink(tmp_path / "rules.json")
    os.mkfifo(tmp_path / "rules.json")
    verified = run_cli("rules", "verify", "rules.json", "--key", "clientcheck.pub")
    assert (verified.status, verified.err) == (4, f"clientcheck: error: rules.json: {FIFO_REFUSED}\n")


def test_rules_generate_policy_and_previous(run_cli, fifo: Path, tmp_path: Path):
    with pytest.raises(PolicyError, match="a named pipe"):
        load_policy(str(fifo))
    policy = tmp_path / "policy.json"
    policy.write_text('{"schema": "clientcheck.policy/1", "publisher": "Example Corp IT"}')
    result = run_cli("rules", "generate", "--policy", str(fifo))
    assert (result.status, result.err) == (2, f"clientcheck: error: {fifo}: {FIFO_REFUSED}\n")
    result = run_cli("rules", "generate", "--policy", str(policy), "--previous", str(fifo))
    assert (result.status, result.err) == (3, f"clientcheck: error: {fifo}: {FIFO_REFUSED}\n")


def test_the_ca_bundle_is_checked_before_the_https_library_opens_it(tmp_path: Path, fifo: Path):
    # A real listener: without the check, the TLS set-up would open the FIFO (and block on it).
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/rules.json"
        loaded = load_rules(
            url,
            dt.date(2026, 11, 25),
            now=NOW,
            env=dict(os.environ),
            ca_bundle=str(fifo),
            cache_folder=str(tmp_path / "cache"),
        )
    assert loaded.info.source == "bundled"
    assert f"--ca-bundle {fifo}: {FIFO_REFUSED}" in (loaded.info.fallback_reason or "")
