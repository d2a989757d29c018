"""The dashboard's own stylesheet and script, served by the server itself (no CDN): each URL carries the
file's content hash, so browsers keep it for a year and fetch it again only when it changes."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "static" / "dashboard"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


@functools.cache
def read(name: str) -> tuple[bytes, str] | None:
    """The file's bytes and short hash, for names in the folder only (no path, no dot files)."""
    name = "".join(name)  # a plain str: a template hands a SafeString, which pathlib cannot use
    if "/" in name or "\\" in name or name.startswith(".") or Path(name).suffix not in TYPES:
        return None
    path = FOLDER / name
    if not path.is_file():
        return None
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:12]


def url(name: str) -> str:
    found = read(name)
    if found is None:
        raise ValueError(f"no asset {name!r} in {FOLDER}")
    return f"/static/{name}?v={found[1]}"
