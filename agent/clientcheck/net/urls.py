"""Addresses clientcheck fetches from or sends to (rule files, feeds, a collector): read once, by the parser
the request is made with, and judged from what that parser found, never from the text.

``requests`` hands every URL to urllib3's ``parse_url``; so does this module, and the request is then made
with urllib3's own reading of it. The standard library's ``urlsplit`` reads the same text as a check: when
the two disagree on the scheme, host or port, the address is refused, as are backslashes (which browsers,
urllib3 and urlsplit each read their own way), a user name or password in it, and anything but printable
ASCII. "This machine", where plain http is allowed, is decided from the parsed host: an IP address in
127.0.0.0/8, ``::1``, or the name ``localhost``; ``127.evil.example`` is a name like any other.

``normalised`` gives the one spelling of an address that the rollback floor and the binding compare:
``HTTP://Example.COM:443/./a/../%72ules.json#x`` and ``https://example.com/rules.json`` are one file.
"""

from __future__ import annotations

import urllib.parse

from clientcheck.record import Record

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_HEX = frozenset("0123456789abcdefABCDEF")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class URLError(ValueError):
    """An address that is not fetched; the message says why, without the address."""


class ParsedURL(Record):
    __slots__ = ("text", "scheme", "host", "port", "path", "query")

    text: str  # the address as the request is made (urllib3's reading, written out again)
    scheme: str  # lower case
    host: str  # lower case; an IPv6 address without its brackets
    port: int | None
    path: str  # with dot segments removed, as urllib3 sends it
    query: str | None

    def __init__(self, text: str, scheme: str, host: str, port: int | None, path: str, query: str | None) -> None:
        self._set(locals())


def parse(url: str) -> ParsedURL:
    """``url`` as urllib3 (and so requests) reads it; URLError when it cannot be read one way only."""
    if not url.isascii() or not url.isprintable() or " " in url:
        raise URLError("not a valid address: a space, a control character or a character that is not ASCII")
    if "\\" in url:
        raise URLError("not a valid address: a backslash, which URL parsers read in different ways")
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    try:
        parsed = parse_url(url)
        split = urllib.parse.urlsplit(url)
        split_port = split.port
    except (LocationParseError, ValueError):
        raise URLError("not a valid address") from None
    if parsed.auth is not None or split.username is not None or "@" in split.netloc:
        raise URLError("not a valid address: a user name or password in it (user@host) is not allowed")
    scheme = (parsed.scheme or "").lower()
    host = (parsed.host or "").lower()
    bare_host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if (scheme, bare_host, parsed.port) != (split.scheme.lower(), (split.hostname or ""), split_port):
        raise URLError("not a valid address: URL parsers read it in different ways")
    return ParsedURL(parsed.url, scheme, bare_host, parsed.port, parsed.path or "", parsed.query)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as parsed) is this machine: 127.0.0.0/8, ::1, or localhost."""
    if host == "localhost":
        return True
    import ipaddress

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: only "localhost" is taken on trust
    if address.version == 6:
        return address == ipaddress.IPv6Address("::1")  # not ::ffff:127.0.0.1, whatever the Python version
    return address.is_loopback


def check(url: str) -> ParsedURL:
    """``url`` parsed, when it may be fetched: https, or plain http to this machine (which tests use)."""
    parsed = parse(url)
    allowed = parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback(parsed.host))
    if not allowed:
        raise URLError("only https:// is allowed (plain http only to this machine: 127.0.0.0/8, ::1 or localhost)")
    if not parsed.host:
        raise URLError("not a valid address: it names no host")
    return parsed


def normalised(url: str) -> str:
    """The one spelling of ``url`` (RFC 3986 section 6): scheme and host in lower case, no default port,
    no dot segments, percent-escapes of unreserved characters decoded and the others in upper case, an
    empty path written "/", and no fragment (it never reaches the server). A query is kept."""
    parsed = parse(url)
    port = "" if parsed.port is None or parsed.port == _DEFAULT_PORTS.get(parsed.scheme) else f":{parsed.port}"
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    # An empty query ("rules.json?") is dropped: servers answer it as without, and for the rollback floor a
    # spelling taken as the same file only ever keeps a floor, never loses one. A query is otherwise kept.
    query = "?" + _percent_normalised(parsed.query) if parsed.query else ""
    return f"{parsed.scheme}://{host}{port}{_percent_normalised(parsed.path) or '/'}{query}"


def file_name(url: str) -> str:
    """The last segment of ``url``'s path, percent-decoded: the file name a signature's comment names."""
    path = parse(url).path
    return urllib.parse.unquote(path.rsplit("/", 1)[-1])


def _percent_normalised(text: str) -> str:
    pieces = text.split("%")
    out = [pieces[0]]
    for piece in pieces[1:]:
        code = piece[:2]
        if len(code) == 2 and set(code) <= _HEX:
            character = chr(int(code, 16))
            out.append(character if character in _UNRESERVED else "%" + code.upper())
            out.append(piece[2:])
        else:
            out.append("%" + piece)  # a lone % (urllib3 would have escaped it): kept as it is
    return "".join(out)
