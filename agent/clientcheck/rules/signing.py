"""The publisher's side of signatures: ``clientcheck rules keygen|sign|verify``, in the formats the real
``minisign`` command reads and writes, so a publisher needs no other tool (and may use minisign)."""

from __future__ import annotations

import os
import time

from clientcheck.deliver import write_output, write_stream
from clientcheck.errors import ExitStatus, InputError, RulesError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


def _read_text(path: str, what: str) -> str:
    """A key or signature file: a regular file of a few lines (a FIFO or device is refused, not waited on)."""
    from clientcheck.reading import FileProblem, read_text
    from clientcheck.rules.source import MAX_KEY_BYTES

    try:
        return read_text(path, MAX_KEY_BYTES)
    except FileProblem as problem:
        raise InputError(f"{what} {path}: {problem.reason}") from None


def keygen(public_path: str, secret_path: str, *, force: bool) -> int:
    from clientcheck.rules.minisign import generate_keypair, parse_public_key

    for path in (public_path, secret_path):
        # A file (or a link to one) is a key; /dev/stdout or a FIFO (to hand the key on) is not.
        if os.path.isfile(path) and not force:
            raise UsageError(f"{path} exists: refusing to replace a key", hint="add --force to replace it")
    public, secret = generate_keypair()
    write_output(secret_path, secret, mode=0o600)
    write_output(public_path, public, mode=0o644)
    key = parse_public_key(public)
    write_stream(
        f"Secret key (keep it safe, it is not password-protected): {secret_path}\n"
        f"Public key {key.id_text}: {public_path}\n"
        f"Pin it on the agents with: --rules-key {public.splitlines()[-1].strip()}\n"
    )
    return ExitStatus.OK


def sign(path: str, secret_path: str, trusted_comment: str | None, env: Mapping[str, str]) -> int:
    from clientcheck.rules.minisign import SignatureError
    from clientcheck.rules.minisign import sign as make_signature
    from clientcheck.rules.source import read_rule_file

    # Never sign a rule file the agents would refuse (RulesError lists its problems); and sign the very bytes
    # that were checked, not the file read a second time.
    _, data = read_rule_file(path)
    secret = _read_text(secret_path, "--secret")
    comment = trusted_comment or f"timestamp:{int(time.time())}\tfile:{os.path.basename(path)}\thashed"
    password = env.get("CLIENTCHECK_KEY_PASSWORD")
    try:
        encoded = comment.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("--trusted-comment must be UTF-8 text") from None
    if "\n" in comment or "\0" in comment or len(encoded) > 8000:
        raise UsageError("--trusted-comment must be one line of at most 8000 bytes")
    try:
        signature = make_signature(data, secret, comment, password=password)
    except SignatureError as error:
        if password is None and "password" in str(error).lower():
            import getpass

            try:
                signature = make_signature(data, secret, comment, password=getpass.getpass("Key password: "))
            except SignatureError as second:
                raise InputError(f"--secret {secret_path}: {second}") from None
        else:
            raise InputError(f"--secret {secret_path}: {error}") from None
    write_output(path + ".minisig", signature, mode=0o644)
    write_stream(f"{path}.minisig written\n")
    return ExitStatus.OK


def verify(path: str, key: str | None) -> int:
    from clientcheck.rules.minisign import SignatureError, parse_public_key
    from clientcheck.rules.minisign import verify as check

    if not key:
        raise UsageError("rules verify needs --key (the public key, or a .pub file)")
    from clientcheck.reading import FileProblem, read_file
    from clientcheck.rules.source import MAX_RULE_FILE_BYTES

    text = _read_text(key, "--key") if os.path.exists(key) else key
    try:
        data = read_file(path, MAX_RULE_FILE_BYTES)
    except FileProblem as problem:
        raise InputError(f"{path}: {problem.reason}") from None
    try:
        public = parse_public_key(text)
        comment = check(data, _read_text(path + ".minisig", "signature"), public)
    except SignatureError as error:
        raise RulesError(path, [f"signature refused: {error}"]) from None
    write_stream(f"{path}: signature by key {public.id_text} is good; trusted comment: {comment}\n")
    return ExitStatus.OK
