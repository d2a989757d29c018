"""Fetch a published rule file over HTTPS, carefully: the file decides what users are told to install.

HTTPS with certificate verification only (plain http is refused except to this machine, for tests),
proxies from the environment, connect and read timeouts plus an overall deadline (a server that trickles
a byte a second must not hold a login run), a size cap, at most five redirects and never from https to
http, and a conditional request (If-None-Match / If-Modified-Since) so an unchanged file costs a 304.
``requests`` is imported here and only when a fetch happens.
"""

from __future__ import annotations

import time
import urllib.parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    import requests

MAX_BYTES = 4 * 1024 * 1024
MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
DEADLINE = 30.0
_JSON_TYPES = ("application/json", "text/json", "text/plain", "application/octet-stream")


class FetchError(Exception):
    """A fetch that did not give a usable body: one line, naming the URL."""


class Fetched:
    """A server's answer: ``body`` is None for 304 Not Modified."""

    __slots__ = ("body", "etag", "last_modified", "url")

    def __init__(self, url: str, body: bytes | None, etag: str | None, last_modified: str | None) -> None:
        self.url, self.body, self.etag, self.last_modified = url, body, etag, last_modified


def check_url(url: str) -> str:
    """``url`` as the request is made, when it may be fetched: https, or plain http to this machine (which
    tests use); FetchError otherwise. The decision is made from urllib3's reading of it (``urls.check``)."""
    from clientcheck.rules.urls import URLError, check

    try:
        return check(url).text
    except URLError as refused:
        raise FetchError(f"{url}: {refused}") from None


def _is_loopback(url: str) -> bool:
    from clientcheck.rules.urls import is_loopback, parse

    return is_loopback(parse(url).host)


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    ca_bundle: str | None = None,
    max_bytes: int = MAX_BYTES,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
    deadline: float = DEADLINE,
    session: requests.Session | None = None,
) -> Fetched:
    """Fetch ``url`` within ``deadline`` seconds in all: name lookup, connection, headers, redirects and
    body. The blocking work runs in a helper thread that is abandoned when the deadline passes, because a
    server can trickle its headers a byte at a time, each within the read timeout."""
    url = check_url(url)
    import threading

    outcome: list[Fetched | BaseException] = []

    def work() -> None:
        try:
            outcome.append(
                _fetch_blocking(
                    url,
                    etag=etag,
                    last_modified=last_modified,
                    ca_bundle=ca_bundle,
                    max_bytes=max_bytes,
                    timeout=timeout,
                    deadline=deadline,
                    session=session,
                )
            )
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=work, name="clientcheck-fetch", daemon=True)
    worker.start()
    worker.join(deadline)
    if not outcome:
        raise FetchError(f"{url}: too slow (no complete answer after {deadline:g} s)")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _fetch_blocking(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    ca_bundle: str | None = None,
    max_bytes: int = MAX_BYTES,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
    deadline: float = DEADLINE,
    session: requests.Session | None = None,
) -> Fetched:
    import requests

    own_session = session is None
    http = session or requests.Session()
    if own_session and _is_loopback(url):
        http.trust_env = False  # this machine is never reached through a proxy
    # identity: a compressed body would make the size and length checks count different bytes; rule files
    # are small.
    headers = {"Accept": "application/json", "User-Agent": "clientcheck", "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    current = url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                response = http.get(
                    current,
                    headers=headers,
                    timeout=timeout,
                    stream=True,
                    allow_redirects=False,
                    verify=ca_bundle or True,
                )
            except requests.exceptions.SSLError as error:
                raise FetchError(f"{current}: TLS certificate not trusted ({error_reason(error)})") from None
            except requests.exceptions.Timeout:
                raise FetchError(f"{current}: timed out") from None
            except (requests.exceptions.RequestException, OSError, ValueError) as error:
                # OSError: requests' own for a CA bundle that does not exist; ValueError: a malformed URL
                raise FetchError(f"{current}: {error_reason(error)}") from None
            with response:
                if response.status_code in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchError(f"{current}: redirect without a Location")
                    try:
                        following = urllib.parse.urljoin(current, location)
                    except ValueError:
                        raise FetchError(f"{current}: redirect to a malformed address {location!r}") from None
                    if _scheme(current) == "https" and _scheme(following) != "https":
                        raise FetchError(f"{current}: refused a redirect from https to {following}")
                    current = check_url(following)
                    continue
                if response.status_code == 304:
                    return Fetched(current, None, etag, last_modified)
                if response.status_code != 200:
                    raise FetchError(f"{current}: HTTP {response.status_code} {response.reason or ''}".rstrip())
                kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if kind and kind not in _JSON_TYPES:
                    raise FetchError(f"{current}: served as {kind!r}, not a JSON rule file")
                body = _read_body(response, current, max_bytes, started, deadline)
                return Fetched(current, body, response.headers.get("ETag"), response.headers.get("Last-Modified"))
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")
    finally:
        if own_session:
            http.close()


def _scheme(url: str) -> str:
    from clientcheck.rules.urls import URLError, parse

    try:
        return parse(url).scheme
    except URLError as refused:
        raise FetchError(f"{url}: {refused}") from None


def _read_body(response: requests.Response, url: str, max_bytes: int, started: float, deadline: float) -> bytes:

    declared = response.headers.get("Content-Length", "").strip()
    # ASCII digits only ("²" is a digit to str.isdigit, not to int), and few enough for int() (4300 at most).
    length = int(declared) if declared.isascii() and declared.isdigit() and len(declared) <= 18 else None
    if length is None and declared.isascii() and declared.isdigit():
        raise FetchError(f"{url}: a Content-Length of {len(declared)} digits, more than the {max_bytes} bytes allowed")
    if length is not None and length > max_bytes:
        raise FetchError(f"{url}: {length} bytes, more than the {max_bytes} allowed")
    chunks: list[bytes] = []
    size = 0
    while chunk := _read_some(response, url):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{url}: more than the {max_bytes} bytes allowed")
        if time.monotonic() - started > deadline:
            raise FetchError(f"{url}: too slow (not complete after {deadline:g} s)")
        chunks.append(chunk)
    body = b"".join(chunks)
    if length is not None and len(body) != length:
        raise FetchError(f"{url}: truncated ({len(body)} of {declared} bytes)")
    return body


def _read_some(response: requests.Response, url: str) -> bytes:
    """What has arrived of the body (b"" at its end). read1, not read: a server that trickles a byte at a
    time, each within the read timeout, is then caught by the overall deadline instead of holding the run."""
    try:
        chunk: bytes = response.raw.read1(65536, decode_content=True)
    except Exception as error:  # urllib3's IncompleteRead and ProtocolError are not requests' exceptions
        raise FetchError(f"{url}: truncated or broken ({error_reason(error)})") from None
    return chunk


def error_reason(error: Exception) -> str:
    """The innermost, most telling part of a requests error, on one line."""
    text = str(error.args[0] if error.args else error)
    for marker in ("Caused by ", "] "):
        if marker in text:
            text = text.rsplit(marker, 1)[-1]
    return " ".join(text.strip("()'\" ").split())[:200] or type(error).__name__
