"""minisign signatures (Ed25519), checked and made in the exact formats of the ``minisign`` command, so a
publisher can sign the rule file with minisign itself and an agent can check it without it.

The three files, each one untrusted comment line followed by base64 of a fixed-size structure:

- public key: ``Ed`` ‖ key id (8 bytes) ‖ Ed25519 public key (32);
- signature (two more lines follow): ``ED`` ‖ key id ‖ Ed25519 signature (64) of the BLAKE2b-512 hash of
  the file (legacy ``Ed``: of the file itself); ``trusted comment: …``; the "global" signature of
  (signature ‖ trusted comment), which is what makes that comment trustworthy;
- secret key: ``Ed`` ‖ kdf ``Sc`` (scrypt) or ``\\0\\0`` (none) ‖ ``B2`` ‖ salt (32) ‖ opslimit (8, LE) ‖
  memlimit (8, LE) ‖ then, XORed with the scrypt output when encrypted: key id ‖ libsodium secret key
  (seed ‖ public key, 64) ‖ BLAKE2b-256 checksum of (``Ed`` ‖ key id ‖ secret key).

Every problem with a file is one ``SignatureError`` with a one-line reason; no other exception escapes for
bad input. ``cryptography`` (and OpenSSL with it) is imported only inside the functions that need it.
"""

from __future__ import annotations

import base64

from clientcheck.record import Record

_SIG_ALG = b"Ed"  # the key's algorithm, and the legacy signature's: Ed25519 of the file itself
_SIG_ALG_HASHED = b"ED"  # Ed25519 of the file's BLAKE2b-512 hash: minisign's default since 0.10
_KDF_SCRYPT = b"Sc"
_KDF_NONE = b"\0\0"
_CHK_ALG = b"B2"
_UNTRUSTED = "untrusted comment: "
_TRUSTED = "trusted comment: "
_KEY_FILE_COMMENT = "minisign encrypted secret key"  # minisign writes it even with -W (not encrypted)

_PUBLIC_KEY_SIZE = 2 + 8 + 32
_SIGNATURE_SIZE = 2 + 8 + 64
_SECRET_KEY_SIZE = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32
_KEYNUM_SK = slice(54, 158)  # key id ‖ secret key ‖ checksum: the part scrypt's output is XORed with

# minisign reads a line with fgets into a fixed buffer (1024 bytes for the untrusted comment, 8192 for the
# trusted one) and refuses a line that does not fit with its newline: longer comments are refused here
# rather than written into a file minisign would reject.
_MAX_UNTRUSTED_COMMENT = 1024 - 1 - len(_UNTRUSTED) - 1
_MAX_TRUSTED_COMMENT = 8192 - 1 - len(_TRUSTED) - 1

# Limits on the scrypt a secret key file asks for. minisign asks for at most N = 2^20, r = 8, p = 1 (its
# "sensitive" limits: 1 GiB, a few seconds) and halves them when memory is short; a damaged file could
# ask for days of work. Python's hashlib refuses more than INT_MAX bytes of memory itself.
_MAX_SCRYPT_WORK = 1 << 22  # N * p, four times minisign's most
_MAX_SCRYPT_MEMORY = 2**31 - 1


class SignatureError(ValueError):
    pass


class PublicKey(Record):
    __slots__ = ("key_id", "key")

    key_id: bytes  # 8 bytes, as stored in the files (little-endian)
    key: bytes  # the 32-byte Ed25519 public key

    def __init__(self, key_id: bytes, key: bytes) -> None:
        self._set(locals())

    @property
    def id_text(self) -> str:
        """The key id as minisign shows it (``minisign public key 1A2B3C4D5E6F7A8B``)."""
        return _id_text(self.key_id)

    @property
    def encoded(self) -> str:
        """The key as minisign prints it (``minisign -Vm <file> -P RWQ…``)."""
        return base64.b64encode(_SIG_ALG + self.key_id + self.key).decode("ascii")


def _id_text(key_id: bytes) -> str:
    # minisign prints the 8 stored bytes read as a little-endian 64-bit number with "%" PRIX64: no leading
    # zeros (a key id whose last stored byte is 0 has 14 digits or fewer).
    return f"{int.from_bytes(key_id, 'little'):X}"


def _decode(text: str, size: int) -> bytes | None:
    """The bytes a base64 line stands for, when it is exactly ``size`` of them."""
    try:
        # validate: only the base64 alphabet and padding, as minisign's own decoder; no spaces, no newlines.
        raw = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or a str that is not ASCII
        return None
    return raw if len(raw) == size else None


def _lines(text: str, count: int, what: str) -> list[str]:
    """A file's ``count`` lines: LF or CRLF endings, the last line's optional."""
    if text.endswith("\n"):
        text = text[:-1]
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    if len(lines) != count:
        raise SignatureError(f"not a minisign {what}: {len(lines)} lines, not {count}")
    for number, line in enumerate(lines, 1):
        if "\r" in line or "\0" in line:  # minisign would cut the line there: never a file it wrote
            raise SignatureError(f"not a minisign {what}: a control character in line {number}")
    return lines


def _utf8(text: str) -> bytes | None:
    """``text``'s bytes in the file. surrogateescape keeps bytes that are not UTF-8 exact, when the caller
    decoded the file with errors="surrogateescape"."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return None


def _blake2b(data: bytes, size: int) -> bytes:
    from hashlib import blake2b  # hashlib loads OpenSSL: only when a signature is checked or made

    return blake2b(data, digest_size=size).digest()


def parse_public_key(text: str) -> PublicKey:
    """The key as minisign prints it (``RWQ…``, one base64 line) or a ``.pub`` file's contents (an
    ``untrusted comment:`` line, then that line)."""
    text = text.strip()  # a key pasted with the spaces or newline around it
    lines = _lines(text, 2, "public key") if "\n" in text else [text]
    if len(lines) == 2:
        if not lines[0].startswith(_UNTRUSTED):
            raise SignatureError(f'not a minisign public key: the first line does not start "{_UNTRUSTED}"')
        lines = lines[1:]
    raw = _decode(lines[0], _PUBLIC_KEY_SIZE)
    if raw is None:
        raise SignatureError(f"not a minisign public key: not base64 of {_PUBLIC_KEY_SIZE} bytes")
    if raw[:2] != _SIG_ALG:
        raise SignatureError(f"not a minisign public key: algorithm {raw[:2]!r}, not Ed25519 ({_SIG_ALG!r})")
    return PublicKey(key_id=raw[2:10], key=raw[10:])


def verify(data: bytes, signature_text: str, key: PublicKey) -> str:
    """The signature file's trusted comment, when ``key`` signed ``data`` and that comment; SignatureError
    otherwise. Both ``ED`` (prehashed, minisign's default) and legacy ``Ed`` signatures are accepted."""
    untrusted, signature_line, trusted_line, global_line = _lines(signature_text, 4, "signature")
    if not untrusted.startswith(_UNTRUSTED):
        raise SignatureError(f'not a minisign signature: line 1 does not start "{_UNTRUSTED}"')
    if not trusted_line.startswith(_TRUSTED):
        raise SignatureError(f'not a minisign signature: line 3 does not start "{_TRUSTED}"')
    signature = _decode(signature_line, _SIGNATURE_SIZE)
    if signature is None:
        raise SignatureError(f"not a minisign signature: line 2 is not base64 of {_SIGNATURE_SIZE} bytes")
    global_signature = _decode(global_line, 64)
    if global_signature is None:
        raise SignatureError("not a minisign signature: line 4 is not base64 of 64 bytes")
    algorithm, key_id, ed25519_signature = signature[:2], signature[2:10], signature[10:]
    if algorithm not in (_SIG_ALG, _SIG_ALG_HASHED):
        raise SignatureError(f"not a minisign signature: unknown algorithm {algorithm!r}")
    trusted_comment = trusted_line[len(_TRUSTED) :]
    comment_bytes = _utf8(trusted_comment)
    if comment_bytes is None:
        raise SignatureError("not a minisign signature: the trusted comment is not text")
    # The key id is only a label (anyone can write any id), but a wrong one says plainly what happened.
    if key_id != key.key_id:
        raise SignatureError(f"signature by key {_id_text(key_id)}, not by the pinned key {key.id_text}")

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        public = Ed25519PublicKey.from_public_bytes(key.key)
    except ValueError:
        raise SignatureError("the pinned key is not an Ed25519 public key") from None
    message = _blake2b(data, 64) if algorithm == _SIG_ALG_HASHED else data
    try:
        public.verify(ed25519_signature, message)
    except InvalidSignature:
        raise SignatureError("the signature does not match the file") from None
    try:
        public.verify(global_signature, ed25519_signature + comment_bytes)
    except InvalidSignature:
        raise SignatureError("the trusted comment was altered") from None
    return trusted_comment


def comment_file_name(trusted_comment: str) -> str | None:
    """The file a trusted comment names, as minisign writes it (``timestamp:1732524000\tfile:rules.json\t
    hashed``); None when it names none (a comment chosen by hand)."""
    for field in trusted_comment.split("\t"):
        if field.startswith("file:"):
            return field[len("file:") :]
    return None


def _comment(comment: str, limit: int, what: str) -> bytes:
    encoded = _utf8(comment)
    if encoded is None or any(c in comment for c in "\r\n\0"):
        raise ValueError(f"the {what} must be one line of text: {comment!r}")
    if len(encoded) > limit:
        raise ValueError(f"the {what} is {len(encoded)} bytes: minisign reads at most {limit}")
    return encoded


def generate_keypair(comment: str | None = None) -> tuple[str, str]:
    """A new key pair: (public key file, secret key file), as ``minisign -G -W`` writes them: the secret key
    NOT encrypted, so keep that file where only the publisher can read it. ``comment`` is the secret key
    file's untrusted comment (minisign's ``-c``); its default is minisign's, which says "encrypted" even
    for an unencrypted key."""
    import os

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    comment = _KEY_FILE_COMMENT if comment is None else comment
    _comment(comment, _MAX_UNTRUSTED_COMMENT, "comment")
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    secret = private.private_bytes_raw() + public  # libsodium's 64-byte form: seed, then public key
    key_id = os.urandom(8)  # minisign's is random too (randombytes_buf)
    # minisign 0.11's -G -W leaves the checksum zero; minisign -C -W (removing a password) writes the real
    # one. The real one is written here: it lets a damaged file be told from a good one.
    checksum = _blake2b(_SIG_ALG + key_id + secret, 32)
    secret_key = _SIG_ALG + _KDF_NONE + _CHK_ALG + bytes(32 + 8 + 8) + key_id + secret + checksum
    public_key = PublicKey(key_id=key_id, key=public)
    return (
        f"{_UNTRUSTED}minisign public key {public_key.id_text}\n{public_key.encoded}\n",
        f"{_UNTRUSTED}{comment}\n{base64.b64encode(secret_key).decode('ascii')}\n",
    )


def _log2_n(max_n: int) -> int:
    """The smallest log2 N from 1 to 63 with N > max_n / 2: how pickparams sizes N."""
    n_log2 = 1
    while n_log2 < 63 and 1 << n_log2 <= max_n // 2:
        n_log2 += 1
    return n_log2


def _scrypt_parameters(opslimit: int, memlimit: int) -> tuple[int, int, int]:
    """(log2 N, r, p) for libsodium's crypto_pwhash_scryptsalsa208sha256 limits: its ``pickparams``."""
    opslimit = max(opslimit, 32768)
    r = 8
    if opslimit < memlimit // 32:  # memory to spare: N from the operations, one lane
        return _log2_n(opslimit // (r * 4)), r, 1
    n_log2 = _log2_n(memlimit // (r * 128))  # N from the memory, lanes from the operations left
    max_rp = min((opslimit // 4) >> n_log2, 0x3FFFFFFF)
    return n_log2, r, max_rp // r


def _scrypt(password: bytes, salt: bytes, opslimit: int, memlimit: int, size: int) -> bytes:
    """libsodium's crypto_pwhash_scryptsalsa208sha256(size, password, salt, opslimit, memlimit)."""
    import hashlib

    n_log2, r, p = _scrypt_parameters(opslimit, memlimit)
    n = 1 << n_log2
    # libsodium refuses these (its escrypt_kdf): so does minisign, with "Unable to complete key derivation".
    if p == 0 or n > 0xFFFFFFFF or r * p >= 1 << 30:
        raise SignatureError("the secret key file is damaged: its scrypt parameters are impossible")
    memory = 128 * r * (n + 2) + 128 * r * p  # what OpenSSL checks maxmem against
    if n * p > _MAX_SCRYPT_WORK or memory > _MAX_SCRYPT_MEMORY:
        raise SignatureError(
            f"the secret key file is damaged: it asks for scrypt with N=2^{n_log2}, r={r}, p={p}, "
            "far more than minisign ever writes"
        )
    try:
        return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=memory, dklen=size)
    except (ValueError, MemoryError) as error:
        raise SignatureError(f"cannot decrypt the secret key: scrypt failed ({error})") from None


def _secret_key(text: str, password: str | None) -> tuple[bytes, bytes]:
    """(key id, 64-byte libsodium secret key) from a secret key file, decrypted with ``password`` when the
    file is encrypted."""
    import hmac

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    comment, line = _lines(text, 2, "secret key")
    if not comment.startswith(_UNTRUSTED):
        raise SignatureError(f'not a minisign secret key: line 1 does not start "{_UNTRUSTED}"')
    raw = _decode(line, _SECRET_KEY_SIZE)
    if raw is None:
        raise SignatureError(f"not a minisign secret key: line 2 is not base64 of {_SECRET_KEY_SIZE} bytes")
    sig_alg, kdf_alg, chk_alg = raw[0:2], raw[2:4], raw[4:6]
    if sig_alg != _SIG_ALG or chk_alg != _CHK_ALG or kdf_alg not in (_KDF_SCRYPT, _KDF_NONE):
        raise SignatureError(f"not a minisign secret key: algorithms {raw[:6]!r}, not Ed, Sc or none, B2")
    keynum_sk = raw[_KEYNUM_SK]
    if kdf_alg == _KDF_SCRYPT:
        if password is None:
            raise SignatureError("the secret key is encrypted: its password is needed")
        password_bytes = _utf8(password)
        if password_bytes is None:
            raise SignatureError("the password is not text")
        salt, opslimit, memlimit = raw[6:38], raw[38:46], raw[46:54]
        stream = _scrypt(
            password_bytes,
            salt,
            int.from_bytes(opslimit, "little"),
            int.from_bytes(memlimit, "little"),
            len(keynum_sk),
        )
        keynum_sk = bytes(a ^ b for a, b in zip(keynum_sk, stream, strict=True))
    key_id, secret, checksum = keynum_sk[:8], keynum_sk[8:72], keynum_sk[72:]
    if not hmac.compare_digest(checksum, _blake2b(sig_alg + key_id + secret, 32)):
        if kdf_alg == _KDF_SCRYPT:
            raise SignatureError("wrong password for the secret key (or the key file is damaged)")
        if checksum != bytes(32):  # minisign 0.11's -G -W writes none: the check below must do
            raise SignatureError("the secret key file is damaged: its checksum does not match")
    # The secret key's second half is its public key: it must be the one its first half (the seed) makes.
    public = Ed25519PrivateKey.from_private_bytes(secret[:32]).public_key().public_bytes_raw()
    if not hmac.compare_digest(public, secret[32:]):
        raise SignatureError("the secret key file is damaged: its public half does not match its seed")
    return key_id, secret


def sign(
    data: bytes,
    secret_key_text: str,
    trusted_comment: str,
    untrusted_comment: str = "signature from clientcheck secret key",
    password: str | None = None,
) -> str:
    """A signature file for ``data``, as ``minisign -S`` writes it (prehashed ``ED``). ``secret_key_text`` is a
    minisign secret key file, unencrypted (``-W``) or encrypted with ``password``. A bad key or a wrong
    password: SignatureError; a comment that is not one line minisign can read back: ValueError."""
    trusted_bytes = _comment(trusted_comment, _MAX_TRUSTED_COMMENT, "trusted comment")
    _comment(untrusted_comment, _MAX_UNTRUSTED_COMMENT, "untrusted comment")
    key_id, secret = _secret_key(secret_key_text, password)

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.from_private_bytes(secret[:32])
    signature = private.sign(_blake2b(data, 64))
    global_signature = private.sign(signature + trusted_bytes)
    return (
        f"{_UNTRUSTED}{untrusted_comment}\n"
        f"{base64.b64encode(_SIG_ALG_HASHED + key_id + signature).decode('ascii')}\n"
        f"{_TRUSTED}{trusted_comment}\n"
        f"{base64.b64encode(global_signature).decode('ascii')}\n"
    )
