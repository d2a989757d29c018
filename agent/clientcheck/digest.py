"""SHA-256 in lower-case hex, by CPython's own implementation.

``hashlib`` first loads OpenSSL's, a few milliseconds of a run that hashes one rule file or one report.
CPython builds its own SHA-256 in (``_sha2`` from 3.12, ``_sha256`` before); another Python uses hashlib.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 12):
    try:
        from _sha2 import sha256
    except ImportError:  # another Python
        from hashlib import sha256
else:
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:  # another Python
        from hashlib import sha256


def sha256_hex(data: bytes) -> str:
    digest: str = sha256(data).hexdigest()
    return digest
