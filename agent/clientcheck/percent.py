"""Percent-encoding (RFC 3986) for the file:// links of a local report, without ``urllib.parse``.

Why: ``urllib.parse`` imports ``re``, ``ipaddress``, ``enum`` and ``collections``, several milliseconds of a
login run that needs one link. ``quote`` and ``unquote`` answer as ``urllib.parse.quote(text, safe)`` and
``urllib.parse.unquote(text, errors="replace")`` do (a test holds them to it); a path that is not valid
UTF-8 (a name kept by Python as surrogate escapes) is encoded byte for byte, where urllib would fail.
"""

from __future__ import annotations

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_HEX = "0123456789ABCDEF"


def quote(text: str, safe: str = "/") -> str:
    """``text`` with every byte of its UTF-8 but the unreserved characters and ``safe`` written as %XX."""
    keep = _UNRESERVED | frozenset(safe.encode("ascii"))
    out: list[str] = []
    for byte in text.encode("utf-8", errors="surrogateescape"):
        out.append(chr(byte) if byte in keep else "%" + _HEX[byte >> 4] + _HEX[byte & 15])
    return "".join(out)


def unquote(text: str) -> str:
    """``text`` with each %XX written as its byte, the bytes read as UTF-8 (what is not, replaced); a ``%``
    that does not start two hex digits stays as it is."""
    if "%" not in text:
        return text
    pieces = text.split("%")
    data = bytearray(pieces[0].encode("utf-8", errors="surrogateescape"))
    for piece in pieces[1:]:
        code = piece[:2]
        if len(code) == 2 and all(char in "0123456789abcdefABCDEF" for char in code):
            data.append(int(code, 16))
            data += piece[2:].encode("utf-8", errors="surrogateescape")
        else:
            data += ("%" + piece).encode("utf-8", errors="surrogateescape")
    return data.decode("utf-8", errors="replace")
