"""The report's content hash, as docs/collector-protocol.md defines it: the SHA-256 (lower-case hex) of its
canonical JSON without the top-level keys ``generated_at`` and ``report_id``.

Canonical JSON here is RFC 8785 (JCS) for the documents a report can be: UTF-8, keys sorted by code point,
no whitespace, only ``"``, ``\\`` and U+0000-U+001F escaped (``\\b \\t \\n \\f \\r`` or ``\\u00xx``), every
other character written as itself, integers in plain decimal. A floating-point number or a lone surrogate
has no canonical form: ``NotCanonicalError`` (the server would refuse it with 422 ``not_canonical``).

Written with json's C encoder directly (as ``cjson`` does), since a machine-level check computes the hash
when it spools its report, and ``import json`` would cost that check several milliseconds.
"""

from __future__ import annotations

from clientcheck.digest import sha256_hex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

HASH_EXCLUDED = ("generated_at", "report_id")


class NotCanonicalError(ValueError):
    """A document with no canonical form (a float, a lone surrogate, a key that is not text)."""


def canonical(document: Any) -> bytes:
    """``document`` as canonical JSON bytes."""
    _refuse_floats(document)
    try:
        from _json import encode_basestring, make_encoder
    except ImportError:  # pragma: no cover - CPython has it
        import json

        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    else:
        # markers, default, string encoder, indent, key and item separators, sort_keys, skipkeys, allow_nan
        encode = make_encoder({}, _unserializable, encode_basestring, None, ":", ",", True, False, False)
        try:
            text = "".join(encode(document, 0))
        except (TypeError, ValueError, RecursionError) as error:
            raise NotCanonicalError(f"no canonical form: {error}") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise NotCanonicalError("no canonical form: a string is not valid Unicode (a lone surrogate)") from None


def content_hash(report: dict[str, Any]) -> str:
    """The report's content hash: the same for two runs that found the same things."""
    stripped = {key: value for key, value in report.items() if key not in HASH_EXCLUDED}
    return sha256_hex(canonical(stripped))


def random_uuid() -> str:
    """A random (version 4) UUID, as ``str(uuid.uuid4())`` makes one, without importing ``uuid`` (which looks
    for the system's libuuid: ten milliseconds here)."""
    import os

    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _refuse_floats(document: Any) -> None:
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            raise NotCanonicalError(f"no canonical form: a floating-point number ({item!r})")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _unserializable(value: object) -> NoReturn:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")
