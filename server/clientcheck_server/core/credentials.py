"""The credentials the server hands out: enrollment secrets, host keys and API tokens.

Each is 256 random bits, base64url, behind a short kind prefix (``ccs_`` secret, ``cck_`` host key, ``cct_``
API token) so a leaked one is recognisable (secret scanners, logs). The server keeps only its SHA-256: these
are random, so a fast hash loses nothing against guessing, and a host key is checked on every report (a
password hasher would cost milliseconds each time). A short prefix of the random part is kept in clear to
tell credentials apart in lists.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET = "ccs_"  # noqa: S105 - prefixes, not credentials
HOST_KEY = "cck_"
API_TOKEN = "cct_"  # noqa: S105
_LENGTH = 43  # 32 bytes in unpadded base64url
SHOWN = 8  # characters of the random part kept in clear to name a credential


def new(kind: str) -> str:
    return kind + secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def prefix(value: str) -> str:
    """What lists show of a credential: its kind and the first characters of its random part."""
    return value[: len(SECRET) + SHOWN]


def well_formed(value: str, kind: str) -> bool:
    """A cheap shape check before any database look-up (a wrong shape cannot be a credential of ours)."""
    return (
        len(value) == len(kind) + _LENGTH
        and value.startswith(kind)
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in value[len(kind) :])
    )


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
