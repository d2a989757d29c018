"""The last good copy of each fetched rule file, with what is needed to ask the server for a newer one.

Two files per URL in the cache folder (the user's, or the machine's when running as root): the rule file
exactly as it was accepted, and its metadata (ETag, Last-Modified, serial, SHA-256, signature). Both are
written atomically and readable by their owner only; the metadata is written last and names the body's
hash, so a copy interrupted half-way is never taken for a good one.
"""

from __future__ import annotations

import json
import os

from clientcheck.deliver import write_atomic
from clientcheck.rules.source import sha256_hex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def cache_dir() -> str:
    """Where cached rule files live: ``CLIENTCHECK_CACHE_DIR``, else the machine's cache folder for a
    service running as root, else the user's (platformdirs decides per OS)."""
    configured = os.environ.get("CLIENTCHECK_CACHE_DIR")
    if configured:
        return configured
    import platformdirs

    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return platformdirs.site_cache_dir("clientcheck")
    return platformdirs.user_cache_dir("clientcheck")


class CachedRules:
    __slots__ = ("body", "etag", "fetched_at", "last_modified", "serial", "signature", "url")

    def __init__(self, url: str, body: bytes, meta: dict[str, Any]) -> None:
        self.url = url
        self.body = body
        self.etag: str | None = meta.get("etag")
        self.last_modified: str | None = meta.get("last_modified")
        self.serial: int = meta["serial"]
        self.signature: str | None = meta.get("signature")
        self.fetched_at: str = meta.get("fetched_at", "")


def _paths(folder: str, url: str) -> tuple[str, str]:
    name = "rules-" + sha256_hex(url.encode())[:16]
    return os.path.join(folder, name + ".json"), os.path.join(folder, name + ".meta.json")


def read_cached(url: str, folder: str | None = None) -> CachedRules | None:
    """The cached copy of ``url``, or None when there is none or it is damaged (never trusted then)."""
    body_path, meta_path = _paths(folder or cache_dir(), url)
    try:
        with open(meta_path, "rb") as stream:
            meta = json.load(stream)
        with open(body_path, "rb") as stream:
            body = stream.read()
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("url") != url or meta.get("sha256") != sha256_hex(body):
        return None
    if isinstance(meta.get("serial"), bool) or not isinstance(meta.get("serial"), int):
        return None
    return CachedRules(url, body, meta)


def write_cached(
    url: str,
    body: bytes,
    *,
    serial: int,
    etag: str | None,
    last_modified: str | None,
    signature: str | None,
    fetched_at: str,
    folder: str | None = None,
) -> None:
    directory = folder or cache_dir()
    os.makedirs(directory, mode=0o700, exist_ok=True)
    body_path, meta_path = _paths(directory, url)
    meta = {
        "url": url,
        "serial": serial,
        "sha256": sha256_hex(body),
        "etag": etag,
        "last_modified": last_modified,
        "signature": signature,
        "fetched_at": fetched_at,
    }
    # The body is JSON text we validated; kept byte for byte (its hash is what reports show).
    write_atomic(body_path, body, mode=0o600)
    write_atomic(meta_path, json.dumps(meta, indent=1) + "\n", mode=0o600)
