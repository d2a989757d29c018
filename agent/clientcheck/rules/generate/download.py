"""The feeds, fetched with the agent's HTTPS client (``net.https``, whose safety rules every request gets)
and read as JSON; a ``FeedError`` naming the URL and what went wrong otherwise.

The generator's policy differs from the login run's rule fetch where it should: it is a publisher's job,
not a login, so a 429 or 503 is asked again once after the wait Retry-After asks (at most 30 s), a read
may take 20 s and a whole request two minutes; and a feed is an API, so only JSON is taken (an HTML page
is a captive portal or an error page)."""

from __future__ import annotations

import json

from clientcheck.net.messages import JSON_TYPES, FetchError, MiB, Policy, Request
from clientcheck.rules.generate.errors import FeedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

FEED_POLICY = Policy(
    "rules generate",
    max_bytes=5 * MiB,  # a bound for a feed gone wrong, far above what the vendors serve
    read_timeout=20.0,
    deadline=120.0,
    retries=1,  # a rate limit or a restart passes; a server that keeps saying so is down
    retry_after_default=1.0,
    retry_after_max=30.0,
    content_types=JSON_TYPES,
)


def fetch_json(url: str, *, sleep: Callable[[float], None] | None = None) -> Any:
    """GET ``url`` under the generator's policy (``FEED_POLICY``) and return its parsed JSON, or raise
    ``FeedError`` naming the URL and what went wrong. ``sleep`` is the wait before a retry (a seam for
    tests)."""
    from clientcheck.net.https import send

    try:
        response = send(Request(url, headers={"Accept": "application/json"}), FEED_POLICY, sleep=sleep)
    except FetchError as failed:
        raise FeedError(failed.url, failed.reason) from None
    if response.status != 200:
        retried = {0: "", 1: " (after one retry)"}.get(response.retries, f" (after {response.retries} retries)")
        raise FeedError(response.where, response.status_line + retried)
    return _decode_json(response.body, response.where)


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
