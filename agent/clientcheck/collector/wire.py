"""The two requests of docs/collector-protocol.md (enroll; ship one report in its envelope) and reading their
answers, over ``net``'s one HTTPS client: verified TLS, plain http only to this machine, a deadline, every
answer a ``Response`` whatever its status (``FetchError`` when none came)."""

from __future__ import annotations

from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from clientcheck.net.messages import Policy, Request, Response

    Send = Callable[[Request, Policy], Response]

ENROLL_PATH = "/api/v1/enroll"
REPORTS_PATH = "/api/v1/reports"
ENVELOPE = "clientcheck.envelope/1"
MAX_ANSWER_BYTES = 64 * 1024  # an answer is a few hundred bytes


def endpoint(server: str, path: str) -> str:
    """``path`` below the server's address (which may have a path of its own, behind a reverse proxy)."""
    return server.rstrip("/") + path


def policy(ca_bundle: str | None) -> Policy:
    """The shipper's policy: JSON answers, error bodies read (they say what to do), no retries inside the
    client (the shipper decides when to come back), a minute at most per exchange."""
    from clientcheck.net.messages import Policy

    return Policy(
        "ship",
        max_bytes=MAX_ANSWER_BYTES,
        connect_timeout=10.0,
        read_timeout=30.0,
        deadline=60.0,
        retries=0,
        content_types=("application/json",),
        error_bodies=True,
        ca_bundle=ca_bundle,
    )


class Answer(Record):
    """A server's answer as the shipper acts on it."""

    __slots__ = ("status", "error", "detail", "document", "retry_after", "where")

    status: int
    error: str | None  # the machine-readable reason of an error answer ("reenroll", "revoked", …)
    detail: str  # for people: the answer's detail, or its status line
    document: dict[str, Any]  # the JSON body ({} when there was none, or it was not JSON)
    retry_after: float | None  # seconds its Retry-After header asks to wait
    where: str

    def __init__(
        self,
        status: int,
        error: str | None,
        detail: str,
        document: dict[str, Any],
        retry_after: float | None,
        where: str,
    ) -> None:
        self._set(locals())

    def number(self, name: str) -> int | None:
        value = self.document.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def answer_of(response: Response) -> Answer:
    document: Any = {}
    if response.body:
        import json

        try:
            document = json.loads(response.body)
        except (ValueError, RecursionError):
            document = {}
    if not isinstance(document, dict):
        document = {}
    error = document.get("error")
    detail = document.get("detail")
    return Answer(
        response.status,
        error if isinstance(error, str) else None,
        detail if isinstance(detail, str) and detail else response.status_line,
        document,
        response.retry_after(),
        response.where,
    )


def enroll(
    send: Send,
    server: str,
    secret: str,
    *,
    agent_id: str,
    hostname: str,
    hints: tuple[str, ...],
    boot_id: str | None,
    platform: str,
    run_as: str,
    ca_bundle: str | None,
) -> Answer:
    """``POST /api/v1/enroll``. ``FetchError`` when no answer came."""
    from clientcheck import __version__
    from clientcheck.net.messages import json_request

    document = {
        "secret": secret,
        "agent_id": agent_id,
        "hostname": hostname,
        "hints": list(hints),
        "boot_id": boot_id,
        "platform": platform,
        "agent_version": __version__,
        "run_as": run_as,
    }
    return answer_of(send(json_request(endpoint(server, ENROLL_PATH), document), policy(ca_bundle)))


def envelope(
    report: dict[str, Any],
    *,
    report_id: str,
    content_hash: str,
    agent_id: str,
    hostname: str,
    hints: tuple[str, ...],
    boot_id: str | None,
    run_as: str,
) -> dict[str, Any]:
    from clientcheck import __version__

    return {
        "envelope": ENVELOPE,
        "report_id": report_id,
        "agent_id": agent_id,
        "content_hash": content_hash,
        "hostname": hostname,
        "hints": list(hints),
        "boot_id": boot_id,
        "agent_version": __version__,
        "run_as": run_as,
        "report": report,
    }


def ship(send: Send, server: str, host_key: str, document: dict[str, Any], ca_bundle: str | None) -> Answer:
    """``POST /api/v1/reports`` of one envelope, gzip-compressed. ``FetchError`` when no answer came (a host
    key that is no Bearer token is one too, before anything is sent)."""
    from clientcheck.net.messages import json_request

    request = json_request(endpoint(server, REPORTS_PATH), document, token=host_key, compress=True)
    return answer_of(send(request, policy(ca_bundle)))
