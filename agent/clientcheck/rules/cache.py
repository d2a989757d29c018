"""The last good copy of each fetched rule file, with what is needed to ask the server for a newer one.

One file per URL in the cache folder (the user's, or the machine's when running as root): a line of
metadata (ETag, Last-Modified, serial, SHA-256, signature), then the rule file exactly as it was accepted.
It is replaced atomically and readable by its owner only; the metadata names the body's hash, so a damaged
copy is never taken for a good one. The folder is checked before use (``open_cache_folder``), as the state
folder is: the user's alone, or not used. The rollback floor is not kept here (see ``floor``): losing the
cache costs a download, never the protection.
"""

from __future__ import annotations

import json
import os

from clientcheck.deliver import write_atomic
from clientcheck.digest import sha256_hex
from clientcheck.rules.source import MAX_KEY_BYTES, MAX_RULE_FILE_BYTES
from clientcheck.rules.validate import MAX_SERIAL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

# A cached entry is one rule file and one line of metadata (its signature included).
_MAX_ENTRY_BYTES = MAX_RULE_FILE_BYTES + MAX_KEY_BYTES


def cache_dir(env: Mapping[str, str]) -> str | None:
    """Where cached rule files live: ``CLIENTCHECK_CACHE_DIR`` in ``env``, else the machine's cache folder
    for a service running as root (``/var/cache/clientcheck`` on Linux), else the user's
    (``~/.cache/clientcheck``; ``dirs`` names each OS's). None when ``env`` names no home."""
    from clientcheck import dirs
    from clientcheck.deliver import effective_uid
    from clientcheck.platforms import this_platform

    configured = env.get("CLIENTCHECK_CACHE_DIR")
    if configured:
        return configured
    if effective_uid() == 0:
        return dirs.site_cache_dir(this_platform(), env)
    return dirs.user_cache_dir(this_platform(), env)


def open_cache_folder(folder: str | None, env: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """The cache folder (``folder``, else the one ``env`` names), checked and repaired
    (``folders.own_folder``), with notes of what was repaired; (None, [why]) when it cannot be used: the
    rules are then fetched without a cache."""
    from clientcheck.errors import ClientcheckError
    from clientcheck.folders import cache_file, own_folder

    directory = folder or cache_dir(env)
    if directory is None:
        return None, ["no rules cache folder (the environment names no home); fetching without a cache"]
    try:
        return directory, own_folder(directory, "rules cache folder", ours=cache_file)
    except ClientcheckError as refused:
        return None, [f"{refused.message}; fetching without a cache"]


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


def _path(folder: str, url: str) -> str:
    return os.path.join(folder, "rules-" + sha256_hex(url.encode())[:16] + ".cache")


def _text_or_none(value: object) -> bool:
    # Header values are sent back to the server: no control characters, or the request could not be made.
    return value is None or (isinstance(value, str) and value.isprintable())


def read_cached(url: str, folder: str) -> CachedRules | None:
    """The cached copy of ``url``, or None when there is none or it is damaged (never trusted then)."""
    from clientcheck.reading import FileProblem, read_file

    try:
        # Read as every other file is: a regular file only, to a cap (a rule file and its line of metadata).
        header, _, body = read_file(_path(folder, url), _MAX_ENTRY_BYTES).partition(b"\n")
        meta = json.loads(header)
    except (FileProblem, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("url") != url or meta.get("sha256") != sha256_hex(body):
        return None
    serial = meta.get("serial")
    if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial <= MAX_SERIAL:
        return None
    if not all(_text_or_none(meta.get(key)) for key in ("etag", "last_modified", "fetched_at")):
        return None
    if not (meta.get("signature") is None or isinstance(meta.get("signature"), str)):
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
    folder: str,
) -> None:
    """Body and metadata in one file, replaced in one rename: there is never a new body with old metadata.
    The folder must have been opened with ``open_cache_folder``."""
    meta = {
        "url": url,
        "serial": serial,
        "sha256": sha256_hex(body),
        "etag": etag,
        "last_modified": last_modified,
        "signature": signature,
        "fetched_at": fetched_at,
    }
    header = json.dumps(meta, ensure_ascii=True).encode()  # one line: ASCII, no raw newline
    write_atomic(_path(folder, url), header + b"\n" + body, mode=0o600)
