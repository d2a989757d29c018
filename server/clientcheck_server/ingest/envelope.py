"""The wire format of ``POST /api/v1/reports``: the body (gzip allowed, decompression bounded), the envelope
around a report, and the report's canonical content hash. docs/collector-protocol.md is the same text for
the agent's side; the two must agree.

The content hash is the SHA-256, in lower-case hex, of the report's canonical JSON without its top-level
``generated_at`` and ``report_id`` keys. Canonical JSON here: UTF-8, object keys sorted by code point, no
whitespace, strings escaped as JSON requires and nothing else (non-ASCII written as itself; ``"`` and
``\\`` and the control characters U+0000-U+001F escaped, as ``\\b \\f \\n \\r \\t`` or ``\\u00XX`` in lower-case
hex), integers in plain decimal. A report has no floating-point numbers; a document that has one, or a
string that is not valid Unicode (a lone surrogate), has no canonical form and is refused. For the
documents a report can be, this is RFC 8785 (JCS); in Python it is
``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()``.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
import zlib
from typing import Any

ENVELOPE = "clientcheck.envelope/1"
HASH_EXCLUDED = ("generated_at", "report_id")
_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")
MAX_HINTS = 8


class RefusedError(ValueError):
    """A body the server will never accept (the agent drops it): ``status`` 413 or 422, ``error`` the
    machine-readable reason."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


def decode_body(body: bytes, encoding: str, limit: int) -> bytes:
    """The body as JSON bytes: gunzipped when ``Content-Encoding: gzip``, never more than ``limit`` bytes
    out (a gzip bomb stops at the limit, having cost ``limit`` bytes of memory)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise RefusedError(422, "bad_encoding", f"Content-Encoding {encoding!r} is not supported: send gzip or none")
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(body, limit + 1)
    except zlib.error as error:
        raise RefusedError(422, "bad_gzip", f"the body is not valid gzip: {error}") from None
    if len(out) > limit or decompressor.unconsumed_tail:
        raise RefusedError(413, "too_large", f"the report is larger than {limit} bytes once decompressed")
    if not decompressor.eof:
        raise RefusedError(422, "bad_gzip", "the gzip stream is truncated")
    if decompressor.unused_data:
        raise RefusedError(422, "bad_gzip", "data after the end of the gzip stream")
    return out


def parse_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise RefusedError(422, "not_json", "the body is not UTF-8 JSON") from None
    except (ValueError, RecursionError) as error:
        raise RefusedError(422, "not_json", f"the body is not JSON: {error}") from None


def canonical(document: Any) -> bytes:
    try:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        _reject_floats(document)
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise RefusedError(422, "not_canonical", "a string is not valid Unicode (a lone surrogate)") from None
    except (TypeError, ValueError, RecursionError) as error:
        raise RefusedError(422, "not_canonical", f"the report has no canonical form: {error}") from None


def _reject_floats(document: Any) -> None:
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            raise TypeError("floating-point numbers are not part of a report")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def content_hash(report: dict[str, Any]) -> str:
    """SHA-256 of the report's canonical JSON, without ``generated_at`` and ``report_id``."""
    stripped = {key: value for key, value in report.items() if key not in HASH_EXCLUDED}
    return hashlib.sha256(canonical(stripped)).hexdigest()


def uuid_field(value: Any, name: str) -> uuid.UUID:
    if not isinstance(value, str):
        raise RefusedError(422, "bad_envelope", f"{name} must be a UUID string")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise RefusedError(422, "bad_envelope", f"{name} is not a UUID: {value[:60]!r}") from None


def text_field(value: Any, name: str, longest: int, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not empty) or len(value) > longest:
        raise RefusedError(422, "bad_envelope", f"{name} must be a string of 1 to {longest} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise RefusedError(422, "bad_envelope", f"{name} contains control characters")
    return value


def hints(value: Any, name: str = "hints") -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_HINTS:
        raise RefusedError(422, "bad_envelope", f"{name} must be a list of at most {MAX_HINTS} SHA-256 hex digests")
    for item in value:
        if not isinstance(item, str) or not _HEX64.match(item):
            raise RefusedError(
                422, "bad_envelope", f"{name}: {str(item)[:70]!r} is not a lower-case SHA-256 hex digest"
            )
    return sorted(set(value))


def boot_id(value: Any) -> str:
    if value is None:
        return ""
    return text_field(value, "boot_id", 64, empty=True)


def run_as(value: Any) -> str:
    if value is None:
        return "machine"
    if value not in ("machine", "user"):
        raise RefusedError(422, "bad_envelope", 'run_as must be "machine" or "user"')
    return str(value)


class Envelope:
    """A checked envelope. The report inside is checked against the schema separately, and only when it
    changed (an unchanged report was checked when it first came)."""

    __slots__ = (
        "agent_id",
        "agent_version",
        "boot_id",
        "content_hash",
        "hints",
        "hostname",
        "report",
        "report_id",
        "run_as",
    )

    def __init__(self, document: Any) -> None:
        if not isinstance(document, dict):
            raise RefusedError(422, "bad_envelope", "the body must be a JSON object (the envelope)")
        if document.get("envelope") != ENVELOPE:
            raise RefusedError(422, "bad_envelope", f'"envelope" must be "{ENVELOPE}"')
        self.report_id = uuid_field(document.get("report_id"), "report_id")
        self.agent_id = uuid_field(document.get("agent_id"), "agent_id")
        declared = document.get("content_hash")
        if not isinstance(declared, str) or not _HEX64.match(declared):
            raise RefusedError(422, "bad_envelope", "content_hash must be a lower-case SHA-256 hex digest")
        self.content_hash = declared
        self.hostname = text_field(document.get("hostname"), "hostname", 255)
        self.hints = hints(document.get("hints", []))
        self.boot_id = boot_id(document.get("boot_id"))
        self.agent_version = text_field(document.get("agent_version", ""), "agent_version", 32, empty=True)
        self.run_as = run_as(document.get("run_as"))
        report = document.get("report")
        if not isinstance(report, dict):
            raise RefusedError(422, "bad_envelope", "report must be a JSON object (a clientcheck.report/1)")
        self.report: dict[str, Any] = report
        computed = content_hash(report)
        if computed != declared:
            raise RefusedError(
                422,
                "content_hash_mismatch",
                f"content_hash {declared} is not the report's canonical hash {computed}"
                " (see docs/collector-protocol.md: canonical JSON without generated_at and report_id)",
            )
