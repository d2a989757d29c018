"""minisign signatures, checked against the real ``minisign`` command in both directions: its keys and
signatures through our verify and sign, ours through its -V and -S; then damaged files, and arbitrary text,
which must only ever be a SignatureError."""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import hashlib
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from clientcheck.rules.minisign import (
    PublicKey,
    SignatureError,
    _scrypt,
    _scrypt_parameters,
    generate_keypair,
    parse_public_key,
    sign,
    verify,
)
from conftest import missing, needs_tool, require_tool

MINISIGN = shutil.which("minisign")
needs_minisign = needs_tool("minisign")
DATA = b'{"schema": "clientcheck.rules/1", "serial": 7}\n'
PASSWORD = "correct horse battery staple"  # noqa: S105 - the test keys' password

# minisign's own published example (its README and test suite): a legacy "Ed" signature of b"test".
EXAMPLE_KEY = "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"
EXAMPLE_SIGNATURE = (
    "untrusted comment: signature from minisign secret key\n"
    "RWQf6LRCGA9i59SLOFxz6NxvASXDJeRtuZykwQepbDEGt87ig1BNpWaVWuNrm73YiIiJbq71Wi+dP9eKL8OC351vwIasSSbXxwA=\n"
    "trusted comment: timestamp:1555779966\tfile:test\n"
    "QtKMXWyYcwdpZAlPF7tE2ENJkRd1ujvKjlj1m9RtHTBnZPa5WKU5uWRs5GoP5M/VqE81QFuMKI5k/SfNQUaOAA==\n"
)


def minisign(*args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    assert MINISIGN is not None
    # The password, when minisign asks for one, is read from standard input: it needs no terminal.
    return subprocess.run(
        [MINISIGN, *map(str, args)], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def run_ok(*args: str | Path, stdin: str = "") -> str:
    proc = minisign(*args, stdin=stdin)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def minisign_keypair(directory: Path, password: str | None = None) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    public, secret = directory / "minisign.pub", directory / "minisign.key"
    if password is None:
        run_ok("-G", "-W", "-p", public, "-s", secret)
    else:
        run_ok("-G", "-p", public, "-s", secret, stdin=f"{password}\n{password}\n")
    return public, secret


@pytest.fixture(scope="module")
def their_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A key pair minisign made, its secret key unencrypted (-W)."""
    require_tool("minisign")
    return minisign_keypair(tmp_path_factory.mktemp("minisign-key"))


@pytest.fixture(scope="module")
def their_other_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    require_tool("minisign")
    return minisign_keypair(tmp_path_factory.mktemp("minisign-other-key"))


@pytest.fixture(scope="module")
def their_encrypted_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A key pair minisign made with a password: scrypt with 1 GiB, a few seconds, so made once."""
    require_tool("minisign")
    return minisign_keypair(tmp_path_factory.mktemp("minisign-encrypted-key"), PASSWORD)


@pytest.fixture(scope="module")
def our_key() -> tuple[str, str]:
    return generate_keypair()


def their_signature(directory: Path, secret: Path, data: bytes, *options: str, password: str = "") -> str:
    directory.mkdir(parents=True, exist_ok=True)
    message = directory / "rules.json"
    message.write_bytes(data)
    run_ok("-S", "-s", secret, "-m", message, *options, stdin=f"{password}\n" if password else "")
    return (directory / "rules.json.minisig").read_text(encoding="utf-8")


# minisign's keys and signatures, checked here ----------------------------------------------------------------


def test_minisigns_published_example():
    key = parse_public_key(EXAMPLE_KEY)
    assert verify(b"test", EXAMPLE_SIGNATURE, key) == "timestamp:1555779966\tfile:test"
    with pytest.raises(SignatureError, match=r"^the signature does not match the file$"):
        verify(b"tesT", EXAMPLE_SIGNATURE, key)


@needs_minisign
def test_a_public_key_file_and_the_key_as_printed(their_key):
    public, _ = their_key
    text = public.read_text(encoding="utf-8")
    comment, line = text.splitlines()
    key = parse_public_key(text)
    assert key == parse_public_key(line) == parse_public_key(f"  {line}\r\n")
    assert key == parse_public_key(text.replace("\n", "\r\n")) == parse_public_key(text.rstrip("\n"))
    # minisign's own comment names the key id as it prints it: the 8 stored bytes as a little-endian number.
    assert comment == f"untrusted comment: minisign public key {key.id_text}"
    assert key.encoded == line
    assert len(key.key_id) == 8
    assert len(key.key) == 32


def test_a_key_id_is_shown_as_minisign_shows_it_without_leading_zeros():
    # minisign's comment is "%" PRIX64 of the little-endian id: about 1 key in 16 has a shorter id.
    key = PublicKey(key_id=bytes.fromhex("8b7a6f5e4d3c2b00"), key=bytes(32))
    assert key.id_text == "2B3C4D5E6F7A8B"
    assert PublicKey(key_id=bytes(8), key=bytes(32)).id_text == "0"


@needs_minisign
@pytest.mark.parametrize("options", [(), ("-l",)], ids=["prehashed", "legacy"])
def test_their_signature_verifies(tmp_path, their_key, options):
    public, secret = their_key
    signature = their_signature(tmp_path, secret, DATA, *options)
    assert base64.b64decode(signature.splitlines()[1])[:2] == (b"Ed" if options else b"ED")
    comment = verify(DATA, signature, parse_public_key(public.read_text(encoding="utf-8")))
    # minisign's default trusted comment, and what its own -V reads back from the same file
    assert comment.startswith("timestamp:")
    assert f"\tfile:rules.json{'' if options else chr(9) + 'hashed'}" in comment
    assert f"Trusted comment: {comment}\n" in run_ok("-V", "-p", public, "-m", tmp_path / "rules.json")


@needs_minisign
@pytest.mark.parametrize("options", [(), ("-l",)], ids=["prehashed", "legacy"])
def test_a_changed_byte_in_the_file_is_refused(tmp_path, their_key, options):
    public, secret = their_key
    signature = their_signature(tmp_path, secret, DATA, *options)
    key = parse_public_key(public.read_text(encoding="utf-8"))
    for at in (0, len(DATA) // 2, len(DATA) - 1):
        changed = DATA[:at] + bytes([DATA[at] ^ 0x01]) + DATA[at + 1 :]
        with pytest.raises(SignatureError, match=r"^the signature does not match the file$"):
            verify(changed, signature, key)
    for changed in (DATA + b"\n", DATA[:-1], b""):
        with pytest.raises(SignatureError, match=r"^the signature does not match the file$"):
            verify(changed, signature, key)


@needs_minisign
def test_a_changed_trusted_comment_is_refused(tmp_path, their_key):
    public, secret = their_key
    signature = their_signature(tmp_path, secret, DATA, "-t", "serial:7")
    key = parse_public_key(public.read_text(encoding="utf-8"))
    assert verify(DATA, signature, key) == "serial:7"
    for forged in ("serial:8", "serial:7 ", "", "serial:"):
        altered = signature.replace("trusted comment: serial:7\n", f"trusted comment: {forged}\n")
        with pytest.raises(SignatureError, match=r"^the trusted comment was altered$"):
            verify(DATA, altered, key)
    # The untrusted comment is not signed: changing it is allowed, as with minisign.
    assert verify(DATA, signature.replace("signature from minisign", "anything at all"), key) == "serial:7"


@needs_minisign
def test_a_signature_by_another_key_is_refused(tmp_path, their_key, their_other_key):
    public, _ = their_key
    other_public, other_secret = their_other_key
    signature = their_signature(tmp_path, other_secret, DATA)
    pinned = parse_public_key(public.read_text(encoding="utf-8"))
    signer = parse_public_key(other_public.read_text(encoding="utf-8"))
    with pytest.raises(SignatureError) as refused:
        verify(DATA, signature, pinned)
    assert str(refused.value) == f"signature by key {signer.id_text}, not by the pinned key {pinned.id_text}"
    # The same key id with another key's bytes (an id is only a label): the signature itself fails.
    impostor = PublicKey(key_id=signer.key_id, key=pinned.key)
    with pytest.raises(SignatureError, match=r"^the signature does not match the file$"):
        verify(DATA, signature, impostor)


@needs_minisign
def test_a_truncated_signature_file_is_refused(tmp_path, their_key):
    public, secret = their_key
    signature = their_signature(tmp_path, secret, DATA)
    key = parse_public_key(public.read_text(encoding="utf-8"))
    assert verify(DATA, signature[:-1], key)  # only the final newline gone: still whole
    for end in range(len(signature) - 1):
        with pytest.raises(SignatureError, match=r"^not a minisign signature: "):
            verify(DATA, signature[:end], key)


@needs_minisign
def test_line_endings_and_other_damage(tmp_path, their_key):
    public, secret = their_key
    signature = their_signature(tmp_path, secret, DATA)
    key = parse_public_key(public.read_text(encoding="utf-8"))
    comment = verify(DATA, signature, key)
    assert verify(DATA, signature.replace("\n", "\r\n"), key) == comment
    assert verify(DATA, signature.replace("\n", "\r\n").rstrip("\n"), key) == comment
    lines = signature.splitlines()
    damaged = {
        "a blank line after": signature + "\n",
        "a fifth line": signature + "more\n",
        "a blank line before": "\n" + signature,
        "no untrusted comment prefix": signature.replace("untrusted comment: ", "comment: ", 1),
        "no trusted comment prefix": signature.replace("trusted comment: ", "trusted: ", 1),
        "lines swapped": "\n".join([lines[0], lines[3], lines[2], lines[1]]),
        "space in base64": signature.replace(lines[1], lines[1][:10] + " " + lines[1][10:]),
        "unknown algorithm": signature.replace(
            lines[1], base64.b64encode(b"Xx" + base64.b64decode(lines[1])[2:]).decode()
        ),
        "short global signature": signature.replace(lines[3], lines[3][:-4]),
        "a carriage return inside": signature.replace("timestamp:", "time\rstamp:"),
        "old Mac line endings": signature.replace("\n", "\r"),
    }
    for name, text in damaged.items():
        with pytest.raises(SignatureError, match=r"^not a minisign signature: ") as refused:
            verify(DATA, text, key)
        assert "\n" not in str(refused.value), name


# Our keys and signatures, checked by minisign ---------------------------------------------------------------


@needs_minisign
@pytest.mark.parametrize("name", ["rules.json", "rules with spaces é.json"])
def test_our_signature_verifies_with_minisign(tmp_path, our_key, name):
    public_text, secret_text = our_key
    public, message = tmp_path / "ours.pub", tmp_path / name
    public.write_text(public_text, encoding="utf-8")
    message.write_bytes(DATA)
    # A trusted comment as minisign's default: the time and the file's name, tab-separated.
    trusted = f"timestamp:{int(time.time())}\tfile:{name}\thashed"
    (tmp_path / f"{name}.minisig").write_text(sign(DATA, secret_text, trusted), encoding="utf-8")
    expected = f"Signature and comment signature verified\nTrusted comment: {trusted}\n"
    assert run_ok("-V", "-p", public, "-m", message) == expected
    assert run_ok("-V", "-H", "-p", public, "-m", message) == expected  # -H: only prehashed accepted
    assert run_ok("-V", "-P", parse_public_key(public_text).encoded, "-m", message) == expected
    assert run_ok("-V", "-Q", "-p", public, "-m", message) == trusted + "\n"
    message.write_bytes(DATA + b" ")
    refused = minisign("-V", "-p", public, "-m", message)
    assert (refused.returncode, refused.stderr) == (1, "Signature verification failed\n")


@needs_minisign
def test_our_secret_key_works_with_minisign(tmp_path, our_key):
    public_text, secret_text = our_key
    public, secret, message = tmp_path / "ours.pub", tmp_path / "ours.key", tmp_path / "rules.json"
    public.write_text(public_text, encoding="utf-8")
    secret.write_text(secret_text, encoding="utf-8")
    message.write_bytes(DATA)
    # Unencrypted: minisign asks for no password (standard input is empty, so a question would fail).
    run_ok("-S", "-s", secret, "-m", message, "-t", "made by minisign")
    signature = (tmp_path / "rules.json.minisig").read_text(encoding="utf-8")
    assert verify(DATA, signature, parse_public_key(public_text)) == "made by minisign"
    assert "Trusted comment: made by minisign\n" in run_ok("-V", "-p", public, "-m", message)
    # minisign recreates the same public key file from our secret key.
    run_ok("-R", "-s", secret, "-p", tmp_path / "recreated.pub")
    assert (tmp_path / "recreated.pub").read_text(encoding="utf-8") == public_text


@needs_minisign
def test_we_sign_exactly_as_minisign(tmp_path, their_key):
    """Ed25519 is deterministic: the same key, file and comments give minisign's file byte for byte."""
    _, secret = their_key
    theirs = their_signature(tmp_path, secret, DATA, "-t", "serial:7", "-c", "signed by the publisher")
    ours = sign(DATA, secret.read_text(encoding="utf-8"), "serial:7", "signed by the publisher")
    assert ours == theirs


@needs_minisign
def test_minisigns_encrypted_key_with_its_password(tmp_path, their_encrypted_key):
    public, secret = their_encrypted_key
    secret_text = secret.read_text(encoding="utf-8")
    assert base64.b64decode(secret_text.splitlines()[1])[2:4] == b"Sc"  # scrypt-encrypted
    signature = sign(DATA, secret_text, "serial:7", "by the publisher", password=PASSWORD)
    message = tmp_path / "rules.json"
    message.write_bytes(DATA)
    (tmp_path / "rules.json.minisig").write_text(signature, encoding="utf-8")
    assert run_ok("-V", "-p", public, "-m", message).endswith("Trusted comment: serial:7\n")
    assert verify(DATA, signature, parse_public_key(public.read_text(encoding="utf-8"))) == "serial:7"
    # byte for byte what minisign itself writes with that key, given the password on standard input
    options = ("-t", "serial:7", "-c", "by the publisher")
    assert their_signature(tmp_path / "theirs", secret, DATA, *options, password=PASSWORD) == signature


@needs_minisign
@pytest.mark.parametrize("password", [None, "Correct horse battery staple"])
def test_a_wrong_or_missing_password_is_refused(their_encrypted_key, password):
    _, secret = their_encrypted_key
    with pytest.raises(SignatureError, match="password"):
        sign(DATA, secret.read_text(encoding="utf-8"), "serial:7", password=password)


@needs_minisign
def test_minisigns_unencrypted_key(their_key):
    """minisign 0.11's -G -W leaves the checksum zero (-C -W writes it): such keys must sign too."""
    _, secret = their_key
    raw = base64.b64decode(secret.read_text(encoding="utf-8").splitlines()[1])
    assert raw[:6] == b"Ed\0\0B2"
    assert sign(DATA, secret.read_text(encoding="utf-8"), "t")


# Damaged secret keys ------------------------------------------------------------------------------------------


def _with_raw(secret_text: str, change) -> str:
    comment, line = secret_text.splitlines()
    raw = bytearray(base64.b64decode(line))
    change(raw)
    return f"{comment}\n{base64.b64encode(bytes(raw)).decode()}\n"


def _flip(at: int):
    def change(raw: bytearray) -> None:
        raw[at] ^= 0x40

    return change


@pytest.mark.parametrize(
    ("at", "message"),
    [
        pytest.param(0, "not a minisign secret key", id="algorithm"),
        pytest.param(4, "not a minisign secret key", id="checksum-algorithm"),
        pytest.param(54, "checksum does not match", id="key-id"),
        pytest.param(70, "checksum does not match", id="seed"),
        pytest.param(120, "checksum does not match", id="public-half"),
        pytest.param(157, "checksum does not match", id="checksum"),
    ],
)
def test_a_damaged_secret_key_is_refused(our_key, at, message):
    _, secret_text = our_key
    with pytest.raises(SignatureError, match=message):
        sign(DATA, _with_raw(secret_text, _flip(at)), "t")


def test_a_damaged_key_without_checksum_is_still_caught(our_key):
    _, secret_text = our_key

    def no_checksum_then_damage(raw: bytearray) -> None:
        raw[126:158] = bytes(32)  # as minisign -G -W writes it
        raw[100] ^= 0x01

    with pytest.raises(SignatureError, match="public half does not match its seed"):
        sign(DATA, _with_raw(secret_text, no_checksum_then_damage), "t")


@pytest.mark.parametrize(
    ("opslimit", "memlimit"),
    [
        pytest.param(2**26, 2**60, id="2GiB-beyond-python"),
        pytest.param(2**63, 2**20, id="work-of-days"),
        pytest.param(2**40, 2**62, id="N-beyond-32-bits"),
    ],
)
def test_impossible_scrypt_parameters_are_refused_at_once(our_key, opslimit, memlimit, monkeypatch):
    # At once: before scrypt is started (it would run for days, or ask for more memory than there is).
    _, secret_text = our_key

    def refuse(*args, **kwargs):
        raise AssertionError("scrypt was started")

    monkeypatch.setattr(hashlib, "scrypt", refuse)

    def encrypted(raw: bytearray) -> None:
        raw[2:4] = b"Sc"
        raw[38:46] = opslimit.to_bytes(8, "little")
        raw[46:54] = memlimit.to_bytes(8, "little")

    with pytest.raises(SignatureError, match=r"^the secret key file is damaged: "):
        sign(DATA, _with_raw(secret_text, encrypted), "t", password=PASSWORD)


def test_comments_minisign_could_not_read_back_are_refused(our_key):
    _, secret_text = our_key
    for trusted in ("two\nlines", "cr\r", "nul\0", "x" * 8174):
        with pytest.raises(ValueError, match="trusted comment"):
            sign(DATA, secret_text, trusted)
    with pytest.raises(ValueError, match="untrusted comment"):
        sign(DATA, secret_text, "t", "x" * 1004)
    assert sign(DATA, secret_text, "x" * 8173, "y" * 1003)  # the longest minisign reads


# The scrypt key derivation, against libsodium itself ----------------------------------------------------------


def test_minisigns_scrypt_parameters():
    assert _scrypt_parameters(33554432, 1073741824) == (20, 8, 1)  # minisign: libsodium's "sensitive"
    assert _scrypt_parameters(33554432 // 2, 1073741824 // 2) == (19, 8, 1)  # halved when memory is short
    assert _scrypt_parameters(1048576, 33554432) == (15, 8, 1)  # rsign2's


def _libsodium() -> ctypes.CDLL:
    name = ctypes.util.find_library("sodium")
    if name is None:
        missing("libsodium is not installed (apt-get install libsodium23; it comes with minisign)")
    sodium = ctypes.CDLL(name)
    assert sodium.sodium_init() >= 0
    return sodium


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    password=st.binary(max_size=40),
    salt=st.binary(min_size=32, max_size=32),
    opslimit=st.integers(0, 2**20),
    memlimit=st.integers(0, 2**23),
)
@example(password=b"pw", salt=bytes(32), opslimit=32768, memlimit=2**23)  # N from the operations
@example(password=b"pw", salt=bytes(32), opslimit=2**20, memlimit=2**20)  # N from memory, p = 32
def test_scrypt_matches_libsodium(password, salt, opslimit, memlimit):
    """Both branches of libsodium's pickparams (N from the operations; N from the memory and lanes from
    the operations), small enough to be quick."""
    sodium = _libsodium()
    n_log2, _, p = _scrypt_parameters(opslimit, memlimit)
    assume((1 << n_log2) * p <= 2**15)
    out = ctypes.create_string_buffer(104)
    status = sodium.crypto_pwhash_scryptsalsa208sha256(
        out,
        ctypes.c_ulonglong(104),
        ctypes.c_char_p(password),
        ctypes.c_ulonglong(len(password)),
        ctypes.c_char_p(salt),
        ctypes.c_ulonglong(opslimit),
        ctypes.c_size_t(memlimit),
    )
    assert status == 0
    assert _scrypt(password, salt, opslimit, memlimit, 104) == out.raw


# Arbitrary input: a SignatureError, never anything else -------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_as_a_signature(text):
    key = parse_public_key(EXAMPLE_KEY)
    with pytest.raises(SignatureError):
        verify(b"test", text, key)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_as_a_public_key(text):
    try:
        key = parse_public_key(text)
    except SignatureError:
        return
    assert len(key.key_id) == 8  # the odd text that happens to be base64 of "Ed" and 40 bytes


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_as_a_secret_key(text):
    with pytest.raises(SignatureError):
        sign(b"test", text, "t", password=PASSWORD)


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, len(EXAMPLE_SIGNATURE)), length=st.integers(0, 20), insert=st.text(max_size=20))
def test_an_edited_signature(start, length, insert):
    """The real signature with a slice replaced by arbitrary text: accepted only when nothing that is
    checked changed (the untrusted comment, or the line endings)."""
    edited = EXAMPLE_SIGNATURE[:start] + insert + EXAMPLE_SIGNATURE[start + length :]
    key = parse_public_key(EXAMPLE_KEY)
    try:
        comment = verify(b"test", edited, key)
    except SignatureError:
        return
    assert comment == "timestamp:1555779966\tfile:test"
    lines = [line.removesuffix("\r") for line in edited.removesuffix("\n").split("\n")]
    assert lines[1:] == EXAMPLE_SIGNATURE.splitlines()[1:]


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=42, max_size=42))
def test_arbitrary_bytes_as_a_public_key(raw):
    text = base64.b64encode(raw).decode()
    if raw[:2] != b"Ed":
        with pytest.raises(SignatureError, match=r"^not a minisign public key: algorithm "):
            parse_public_key(text)
    else:
        assert parse_public_key(text) == PublicKey(key_id=raw[2:10], key=raw[10:])


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_arbitrary_bytes_as_the_pinned_key(raw):
    """Any 32 bytes under the right key id, most of them no point of the curve: only a SignatureError."""
    key = PublicKey(key_id=parse_public_key(EXAMPLE_KEY).key_id, key=raw)
    with pytest.raises(SignatureError, match=r"^the (signature does not match the file|pinned key is not)"):
        verify(b"test", EXAMPLE_SIGNATURE, key)
