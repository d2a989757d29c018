"""The feeds fetched over HTTPS and read as JSON: ``fetch_json`` (requests, imported only when a feed is
fetched), or a ``FeedError`` naming the URL and what went wrong."""

from __future__ import annotations

import json

from clientcheck import dates as dt
from clientcheck.net.https import error_reason
from clientcheck.rules.generate.errors import FeedError
from clientcheck.rules.generate.policy import check_feed_url

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    import requests

MAX_FEED_BYTES = 5 * 1024 * 1024
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 30.0
DEFAULT_RETRY_AFTER = 1.0  # a 429/503 without Retry-After: one second, then the one retry
_REDIRECTS = frozenset((301, 302, 307, 308))
_RETRYABLE = frozenset((429, 503))


def _scheme(url: str) -> str:
    from clientcheck.net.urls import URLError, parse

    try:
        return parse(url).scheme
    except URLError:
        return ""


def redirect_target(current: str, location: str | None) -> str:
    """Where a redirect from ``current`` leads; never from https to anything else."""
    from urllib.parse import urljoin

    if not location:
        raise FeedError(current, "redirect without a Location header")
    target = urljoin(current, location)
    if _scheme(current) == "https" and _scheme(target) != "https":
        raise FeedError(current, f"refused a redirect from https to {target}")
    try:
        return check_feed_url(target)
    except FeedError as refused:
        raise FeedError(current, f"refused a redirect to {target}: {refused.reason}") from None


def retry_delay(value: str | None, now: dt.datetime | None = None) -> float:
    """Seconds to wait before the one retry, from a Retry-After header (seconds or an HTTP date), capped."""
    seconds = DEFAULT_RETRY_AFTER
    text = (value or "").strip()
    if text.isascii() and text.isdigit():
        seconds = float(int(text)) if len(text) <= 18 else MAX_RETRY_AFTER  # int() refuses 4300 digits
    elif text:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            when = None  # unreadable: the default wait
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.timezone.utc)
            seconds = (when - (now or dt.datetime.now(dt.timezone.utc))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media in ("application/json", "text/json") or (media.startswith("application/") and media.endswith("+json"))


def fetch_json(
    url: str,
    session: requests.Session | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
    max_bytes: int = MAX_FEED_BYTES,
) -> Any:
    """GET ``url`` and return its parsed JSON, or raise ``FeedError`` naming the URL and what went wrong.

    HTTPS only (plain http to this machine only); 5 s to connect and 20 s per read; up to five redirects
    (301, 302, 307, 308), never from https to http; one retry after a 429 or 503, waiting what Retry-After
    says (at most 30 s); at most ``max_bytes`` of body; JSON content types only.
    """
    import requests  # only when a feed is fetched: the agent's login run never gets here

    check_feed_url(url)
    pause = sleep
    if pause is None:
        import time

        pause = time.sleep
    http = session if session is not None else requests.Session()
    headers = {"Accept": "application/json", "User-Agent": "clientcheck-rules-generate"}
    current = url
    redirects = 0
    retried = False
    try:
        while True:
            where = current if current == url else f"{current} (redirected from {url})"
            try:
                response = http.get(
                    current,
                    headers=headers,
                    timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                    allow_redirects=False,
                    stream=True,
                )
            except requests.exceptions.SSLError as error:
                raise FeedError(where, f"TLS failed ({error_reason(error)})") from None
            except requests.exceptions.Timeout:
                raise FeedError(
                    where, f"timed out ({CONNECT_TIMEOUT:g} s to connect, {READ_TIMEOUT:g} s to read)"
                ) from None
            except requests.exceptions.RequestException as error:
                raise FeedError(where, f"cannot connect: {error_reason(error)}") from None
            with response:
                status = response.status_code
                if status in _REDIRECTS:
                    redirects += 1
                    if redirects > MAX_REDIRECTS:
                        raise FeedError(url, f"more than {MAX_REDIRECTS} redirects")
                    try:
                        current = redirect_target(current, response.headers.get("Location"))
                    except FeedError as refused:
                        raise FeedError(where, refused.reason) from None
                    continue
                if status in _RETRYABLE and not retried:
                    # Once: a rate limit or a restart passes; a server that keeps saying so is down.
                    retried = True
                    pause(retry_delay(response.headers.get("Retry-After")))
                    continue
                if status != 200:
                    again = " (after one retry)" if retried and status in _RETRYABLE else ""
                    raise FeedError(where, f"HTTP {status} {response.reason or ''}".rstrip() + again)
                content_type = response.headers.get("Content-Type", "")
                if not _is_json_type(content_type):
                    raise FeedError(where, f"served as {content_type or 'no content type'!r}, not JSON")
                body = _read_capped(response, where, max_bytes)
            return _decode_json(body, where)
    finally:
        if session is None:
            http.close()


def _read_capped(response: requests.Response, where: str, max_bytes: int) -> bytes:
    import requests

    declared = response.headers.get("Content-Length", "").strip()
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > max_bytes):
        # (past 18 digits: more than any cap, and int() refuses 4300)
        raise FeedError(where, f"{declared[:20]} bytes, more than the {max_bytes} allowed")
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > max_bytes:
                raise FeedError(where, f"more than the {max_bytes} bytes allowed")
            chunks.append(chunk)
    except requests.exceptions.RequestException as error:
        # urllib3 checks the body against Content-Length: a connection closed early ends up here.
        raise FeedError(where, f"the body was cut short ({error_reason(error)})") from None
    return b"".join(chunks)


def _decode_json(body: bytes, where: str) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FeedError(where, f"malformed body: byte {error.start} is not UTF-8") from None
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as error:
        raise FeedError(where, f"malformed JSON: line {error.lineno} column {error.colno}: {error.msg}") from None
    except (ValueError, RecursionError) as error:
        raise FeedError(where, f"malformed JSON: {type(error).__name__}") from None
