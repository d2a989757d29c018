"""What goes into the HTTPS client and what comes out: a ``Request`` (method, address, headers, body), the
caller's ``Policy``, and a ``Response`` (status, headers, body), plus reading ``Retry-After``. Plain
values, no I/O: ``https.send`` does the work."""

from __future__ import annotations

from clientcheck import dates as dt
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

MiB = 1024 * 1024
JSON_TYPES = ("application/json", "text/json", "application/*+json")
# RFC 6750's b64token: what a Bearer token may hold, so it can never break out of its header line.
_TOKEN_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/")


class FetchError(Exception):
    """A request that got no usable answer (refused address, TLS, timeout, too big, cut short, too many
    redirects, past its deadline). ``url`` says where, with the address asked for when a redirect led
    elsewhere; ``reason`` is one line. An answer with any status is a ``Response``, not this."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class Policy(Record):
    """What a caller chooses. The safety rules (verification, https, loopback, redirects, uncompressed
    bodies, a cap, timeouts and a deadline) are not among the choices: see ``https``."""

    __slots__ = (
        "purpose",
        "max_bytes",
        "connect_timeout",
        "read_timeout",
        "deadline",
        "retries",
        "retry_after_default",
        "retry_after_max",
        "content_types",
        "error_bodies",
        "ca_bundle",
    )

    purpose: str  # who is asking, said in the User-Agent: "rules", "rules generate", "ship"
    max_bytes: int  # the largest body read
    connect_timeout: float  # seconds to connect
    read_timeout: float  # the longest silence while waiting for or reading an answer
    deadline: float  # the most the whole exchange takes: redirects, body, retries and their waits
    retries: int  # how often a 429 or 503 is asked again (after waiting what Retry-After says)
    retry_after_default: float  # the wait when a 429 or 503 says nothing readable in Retry-After
    retry_after_max: float  # the longest wait honoured
    content_types: tuple[str, ...] | None  # media types a 2xx body may have ("" for none given); None: any
    error_bodies: bool  # read the body of a 4xx or 5xx answer (a collector's error says what to do)
    ca_bundle: str | None  # a PEM file of the CAs to trust instead of the system's

    def __init__(
        self,
        purpose: str,
        *,
        max_bytes: int = 5 * MiB,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        deadline: float = 60.0,
        retries: int = 0,
        retry_after_default: float = 1.0,
        retry_after_max: float = 30.0,
        content_types: tuple[str, ...] | None = None,
        error_bodies: bool = False,
        ca_bundle: str | None = None,
    ) -> None:
        self._set(locals())

    def retry_wait(self, value: str | None, now: dt.datetime | None = None) -> float:
        """Seconds to wait before asking again, after an answer whose Retry-After header is ``value``:
        what it asks, at most ``retry_after_max``; ``retry_after_default`` when it asks nothing readable."""
        asked = retry_after(value, now)
        return min(self.retry_after_default if asked is None else asked, self.retry_after_max)


class Request(Record):
    """A request as its caller makes it; the client adds User-Agent and Accept-Encoding."""

    __slots__ = ("method", "url", "headers", "body")

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None

    def __init__(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        body: bytes | None = None,
    ) -> None:
        headers = tuple(dict(headers).items())
        self._set(locals())


def json_request(
    url: str,
    document: Any,
    *,
    method: str = "POST",
    token: str | None = None,
    compress: bool = False,
    headers: Mapping[str, str] | None = None,
) -> Request:
    """A request whose body is ``document`` as JSON (UTF-8): gzip-compressed with ``compress``
    (``Content-Encoding: gzip``, the same bytes for the same document), with ``token`` as a Bearer
    ``Authorization`` header (RFC 6750). A token that is not one is a ``FetchError`` before anything is
    sent, so no header line can be broken or forged through it."""
    import json

    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    fields = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
    if compress:
        import gzip

        body = gzip.compress(body, mtime=0)
        fields["Content-Encoding"] = "gzip"
    if token is not None:
        fields["Authorization"] = f"Bearer {bearer_token(token, url)}"
    return Request(url, method=method, headers=fields, body=body)


def bearer_token(token: str, url: str) -> str:
    """``token`` when it is a Bearer token (RFC 6750: letters, digits, ``-._~+/``, then any ``=``)."""
    core = token.rstrip("=")
    if not core or not set(core) <= _TOKEN_CHARACTERS:
        raise FetchError(url, "the Bearer token is not one (RFC 6750: letters, digits, -._~+/ and = at its end)")
    return token


class Response(Record):
    """An answer, whatever its status: what the status means is the caller's to say."""

    __slots__ = ("url", "requested", "status", "reason", "headers", "body", "retries")

    url: str  # where the answer came from, after any redirects
    requested: str  # the address asked for
    status: int
    reason: str  # the server's reason phrase ("Not Found"), or ""
    headers: tuple[tuple[str, str], ...]  # names in lower case
    body: bytes  # b"" when there is none, or the policy does not read it (an error answer)
    retries: int  # how often a 429 or 503 was asked again before this answer

    def __init__(
        self,
        url: str,
        requested: str,
        status: int,
        reason: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        retries: int = 0,
    ) -> None:
        headers = tuple((name.lower(), value) for name, value in headers)
        self._set(locals())

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    @property
    def where(self) -> str:
        """The address the answer came from, naming the one asked for when a redirect led there."""
        return self.url if self.url == self.requested else f"{self.url} (redirected from {self.requested})"

    @property
    def status_line(self) -> str:
        """``HTTP 404 Not Found``."""
        return f"HTTP {self.status} {self.reason}".rstrip()

    def retry_after(self, now: dt.datetime | None = None) -> float | None:
        """Seconds this answer's Retry-After header asks to wait (see ``retry_after``), unbounded."""
        return retry_after(self.header("retry-after"), now)


def retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks to wait (RFC 9110 10.2.3: a number of seconds, or an HTTP date
    counted from ``now``), never below 0; None when it is absent or unreadable. Unbounded (a huge number is
    infinity): how long to wait at most is the caller's choice."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(int(text)) if len(text) <= 18 else float("inf")  # int() refuses 4300 digits
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max((when - (now or dt.datetime.now(dt.timezone.utc))).total_seconds(), 0.0)
