"""Fetch a published rule file (or its signature) with the agent's HTTPS client (``net.https``), under the
rule fetch's policy: it runs at login, so it gives up sooner than other callers and never retries (a
server that is busy or down leaves the cached copy in use until the next run), and it asks with
If-None-Match / If-Modified-Since so an unchanged file costs a 304.
"""

from __future__ import annotations

from clientcheck.net.messages import JSON_TYPES, FetchError, Policy, Request
from clientcheck.rules.source import MAX_RULE_FILE_BYTES

__all__ = ["DEADLINE", "MAX_BYTES", "FetchError", "Fetched", "fetch"]

# A fetched file is capped as a local rule file is, so the cache can always hold what was accepted.
MAX_BYTES = MAX_RULE_FILE_BYTES
DEADLINE = 30.0
# Static hosting serves .json and .minisig files as it likes: text/plain (raw file hosts), octet-stream
# (object stores), or with no type at all; an HTML page (a captive portal, an error page) is refused.
_TYPES = (*JSON_TYPES, "text/plain", "application/octet-stream", "")
RULES_POLICY = Policy("rules", max_bytes=MAX_BYTES, read_timeout=15.0, deadline=DEADLINE, content_types=_TYPES)


class Fetched:
    """A server's answer: ``body`` is None for 304 Not Modified."""

    __slots__ = ("body", "etag", "last_modified", "url")

    def __init__(self, url: str, body: bytes | None, etag: str | None, last_modified: str | None) -> None:
        self.url, self.body, self.etag, self.last_modified = url, body, etag, last_modified


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    ca_bundle: str | None = None,
    max_bytes: int = MAX_BYTES,
    deadline: float = DEADLINE,
) -> Fetched:
    """The file at ``url`` within ``deadline`` seconds in all, or None as its body when the server says
    the copy named by ``etag`` / ``last_modified`` has not changed. Raises ``FetchError``."""
    from clientcheck.net.https import send

    headers = {"Accept": "application/json"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    policy = RULES_POLICY.replace(ca_bundle=ca_bundle, max_bytes=max_bytes, deadline=deadline)
    response = send(Request(url, headers=headers), policy)
    if response.status == 304:
        return Fetched(response.url, None, etag, last_modified)
    if response.status != 200:
        raise FetchError(response.where, response.status_line)
    return Fetched(response.url, response.body, response.header("etag"), response.header("last-modified"))
