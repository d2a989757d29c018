"""rules keygen, sign and verify, interoperating with the real minisign command in both directions, and
a signed local rule file judged with --rules-key."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import DESIGN_EXAMPLE, needs_tool

MINISIGN = shutil.which("minisign")
needs_minisign = needs_tool("minisign")


@pytest.fixture
def publisher(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    shutil.copy(DESIGN_EXAMPLE, tmp_path / "rules.json")
    result = run_cli("rules", "keygen")
    assert result.status == 0, result.err
    return tmp_path


def test_keygen_writes_an_owner_only_secret_and_refuses_to_replace_it(publisher: Path, run_cli):
    assert stat.S_IMODE((publisher / "clientcheck.key").stat().st_mode) == 0o600
    assert (publisher / "clientcheck.pub").read_text().startswith("untrusted comment: minisign public key ")
    again = run_cli("rules", "keygen")
    assert again.status == 2 and "refusing to replace a key" in again.err
    assert run_cli("rules", "keygen", "--force").status == 0


@needs_minisign
def test_our_signature_is_accepted_by_minisign(publisher: Path, run_cli):
    assert run_cli("rules", "sign", "rules.json").status == 0
    proc = subprocess.run(
        [MINISIGN, "-V", "-p", "clientcheck.pub", "-m", "rules.json"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "Signature and comment signature verified" in proc.stdout


@needs_minisign
def test_minisigns_signature_with_our_key_is_accepted_by_us(publisher: Path, run_cli):
    subprocess.run(
        [MINISIGN, "-S", "-s", "clientcheck.key", "-m", "rules.json", "-t", "signed by minisign"],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    result = run_cli("rules", "verify", "rules.json", "--key", "clientcheck.pub")
    assert result.status == 0
    assert "trusted comment: signed by minisign" in result.out


def test_an_invalid_rule_file_is_never_signed(publisher: Path, run_cli):
    (publisher / "rules.json").write_text('{"schema": "clientcheck.rules/1"}')
    result = run_cli("rules", "sign", "rules.json")
    assert result.status == 3
    assert not (publisher / "rules.json.minisig").exists()


def test_a_signed_local_file_with_the_pinned_key(publisher: Path, run_cli):
    run_cli("rules", "sign", "rules.json")
    report = run_cli("--rules", "rules.json", "--rules-key", "clientcheck.pub", "--format", "json").json()
    assert (report["rules"]["source"], report["rules"]["fallback_reason"]) == ("rules.json", None)


def test_a_tampered_file_is_refused(publisher: Path, run_cli):
    run_cli("rules", "sign", "rules.json")
    rules = publisher / "rules.json"
    rules.write_text(rules.read_text().replace('"minimum": "150.0"', '"minimum": "15.0"'))
    verify = run_cli("rules", "verify", "rules.json", "--key", "clientcheck.pub")
    assert verify.status == 3 and "signature refused: the signature does not match the file" in verify.err
    report = run_cli("--rules", "rules.json", "--rules-key", "clientcheck.pub", "--format", "json").json()
    assert report["rules"]["source"] == "bundled"
    assert "signature refused" in report["rules"]["fallback_reason"]
