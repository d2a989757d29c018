"""``POST /api/v1/reports``: one report in its envelope, authenticated by the host's key.

Answers (docs/collector-protocol.md): 202 after the report is committed (or recognised as a check-in,
a duplicate or an older report), with ``next_check_in``; 401 ``reenroll`` / ``revoked``; 413 and 422
permanent (the agent drops that report); 429 and 503 with Retry-After.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from clientcheck_server.core import credentials, load, ratelimit
from clientcheck_server.core.http import answer, bearer, refuse
from clientcheck_server.core.metrics import INGEST_SECONDS, REPORTS
from clientcheck_server.enrollment.models import CLONE, DELETED
from clientcheck_server.ingest import store
from clientcheck_server.ingest.envelope import Envelope, RefusedError, decode_body, parse_json
from clientcheck_server.ingest.identity import CLONED, check_identity
from clientcheck_server.ingest.schema import check_report

log = logging.getLogger("clientcheck_server.ingest")
HOUR = dt.timedelta(hours=1)
# An unchanged report moves last_seen at most this often: a check-in is a read, not a write.
SEEN_RESOLUTION = dt.timedelta(minutes=1)


# The host key's row and what the report path needs of its host, in one statement (plain SQL: the ORM's
# version of this look-up cost ten times the CPU here; docs/server.md, "Ingest speed").
_LOOKUP = (
    "SELECT k.revoked_at, k.revoked_reason, h.id, h.agent_id, h.content_hash, h.last_seen, h.stale, h.archived_at,"
    " h.hostname, h.agent_version, h.run_as, h.identities"
    " FROM enrollment_hostkey k LEFT JOIN fleet_host h ON h.id = k.host_id WHERE k.key_hash = %s"
)
# PostgreSQL: the same look-up and the host's rate counter in one statement, so a check-in costs one round
# trip to the database instead of five (look-up; BEGIN, SET LOCAL, upsert, COMMIT: measured with py-spy under
# bench/loadsim.py, waiting on them was most of a check-in's time). It counts only for a live key of a host,
# as the two statements did. set_config(..., true) is SET LOCAL for the statement's own transaction
# (autocommit): the counter commits asynchronously, as before (a counter or last_seen may be lost if the
# database machine crashes in the next fraction of a second, never a report). SQLite has no INSERT in a
# WITH, and no round trips to save: it runs the two statements.
_LOOKUP_AND_COUNT = (
    "WITH found AS (SELECT set_config('synchronous_commit', 'off', true) AS asynchronous, k.revoked_at,"  # noqa: S608
    " k.revoked_reason, h.id, h.agent_id, h.content_hash, h.last_seen, h.stale, h.archived_at, h.hostname,"
    " h.agent_version, h.run_as, h.identities"
    " FROM enrollment_hostkey k LEFT JOIN fleet_host h ON h.id = k.host_id WHERE k.key_hash = %s),"
    " hit AS (INSERT INTO core_ratecounter (key, window_start, count)"
    " SELECT 'host:' || found.id, %s, 1 FROM found WHERE found.revoked_at IS NULL AND found.id IS NOT NULL"
    f" {ratelimit.ON_CONFLICT})"
    " SELECT found.revoked_at, found.revoked_reason, found.id, found.agent_id, found.content_hash,"
    " found.last_seen, found.stale, found.archived_at, found.hostname, found.agent_version, found.run_as,"
    " found.identities, hit.count, hit.window_start FROM found LEFT JOIN hit ON true"
)


class KnownHost:
    """The host a valid key belongs to, as _LOOKUP reads it."""

    __slots__ = (
        "agent_id",
        "agent_version",
        "archived_at",
        "content_hash",
        "hostname",
        "id",
        "identities",
        "last_seen",
        "run_as",
        "stale",
    )

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.id: int = row[0]
        self.agent_id = row[1] if isinstance(row[1], uuid.UUID) else uuid.UUID(str(row[1]))
        self.content_hash: str = row[2]
        self.last_seen = store.moment(row[3])
        self.stale = bool(row[4])
        self.archived_at = row[5]
        self.hostname: str = row[6]
        self.agent_version: str = row[7]
        self.run_as: str = row[8]
        identities = row[9]
        self.identities: list[dict[str, Any]] = json.loads(identities) if isinstance(identities, str) else identities


def _unauthorized(reason: str, detail: str, *, reset_agent_id: bool = False) -> HttpResponse:
    REPORTS.labels(outcome=reason).inc()
    extra = {"reset_agent_id": True} if reset_agent_id else {}
    return refuse(401, reason, detail, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, **extra)


@csrf_exempt
def reports(request: HttpRequest) -> HttpResponse:
    started = time.perf_counter()
    if request.method != "POST":
        return refuse(405, "method", "POST a report", {"Allow": "POST"})
    token = bearer(request)
    if token is None or not credentials.well_formed(token, credentials.HOST_KEY):
        return _unauthorized("reenroll", "no host key, or not one this server made: enroll again")
    config = settings.CONFIG
    now = timezone.now()
    counted = None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            at, before = ratelimit.db_time(now), ratelimit.db_time(now - HOUR)
            cursor.execute(_LOOKUP_AND_COUNT, [credentials.digest(token), at, before, before])
            row = cursor.fetchone()
            if row is not None:
                row, counted = row[:-2], row[-2:]
        else:
            cursor.execute(_LOOKUP, [credentials.digest(token)])
            row = cursor.fetchone()
    if row is None:
        return _unauthorized("reenroll", "this host key is not known here: enroll again")
    revoked_at, reason, host_id = row[0], row[1], row[2]
    if revoked_at is not None or host_id is None:
        if reason == DELETED or host_id is None:
            return _unauthorized("revoked", "an admin removed this host from the collector: stop shipping")
        return _unauthorized("reenroll", "this host key was replaced: enroll again", reset_agent_id=reason == CLONE)
    host = KnownHost(row[2:])
    limit = config.host_requests_per_hour
    if counted is not None:
        verdict = ratelimit.verdict(counted[0], counted[1], now, HOUR, limit)
    else:
        with _sqlite_without_fsync(), transaction.atomic():
            verdict = ratelimit.hit(f"host:{host.id}", now=now, window=HOUR, limit=limit)
    if not verdict.allowed:
        REPORTS.labels(outcome="rate_limited").inc()
        return refuse(
            429,
            "rate_limited",
            f"more than {config.host_requests_per_hour} requests this hour from this host",
            {"Retry-After": str(verdict.retry_after)},
        )
    try:
        envelope = _envelope_of(request, host, config.max_report_bytes)
        if check_identity(host.id, host.identities, envelope, now) == CLONED:
            return _unauthorized(
                "reenroll",
                "this agent id and key report from two machines: make a new agent id and enroll again",
                reset_agent_id=True,
            )
        if envelope.content_hash == host.content_hash:
            outcome = _check_in(host, envelope, now)
        else:
            check_report(envelope.report)
            outcome = store.apply_report(host.id, envelope, now)  # the spool's age: read with the host's lock
    except RefusedError as refused:
        REPORTS.labels(outcome=refused.error).inc()
        log.info("report refused (%s) from host %s: %s", refused.error, host.id, refused.detail)
        return refuse(refused.status, refused.error, refused.detail)
    REPORTS.labels(outcome=outcome).inc()
    INGEST_SECONDS.labels(kind="check-in" if outcome == store.CHECK_IN else "report").observe(
        time.perf_counter() - started
    )
    return answer(
        202,
        {
            "status": "accepted",
            "outcome": outcome,
            "report_id": str(envelope.report_id),
            "next_check_in": load.next_check_in(),
        },
    )


def _envelope_of(request: HttpRequest, host: KnownHost, limit: int) -> Envelope:
    body = decode_body(request.body, request.META.get("HTTP_CONTENT_ENCODING", ""), limit)
    envelope = Envelope(parse_json(body))
    if envelope.agent_id != host.agent_id:
        raise RefusedError(422, "agent_mismatch", "agent_id is not the agent this host key was given to")
    return envelope


def _check_in(host: KnownHost, envelope: Envelope, now: dt.datetime) -> str:
    """An unchanged report: the host was seen. Written at most once a minute, or when something the
    envelope says of the host changed (its name, its agent version) or it comes back from stale/archived."""
    if (
        host.last_seen >= now - SEEN_RESOLUTION
        and not host.stale
        and host.archived_at is None
        and host.hostname == envelope.hostname
        and host.agent_version == envelope.agent_version
        and host.run_as == envelope.run_as
    ):
        return store.CHECK_IN
    update = (
        "UPDATE fleet_host SET last_seen = %s, stale = %s, archived_at = NULL, hostname = %s,"
        " agent_version = %s, run_as = %s WHERE id = %s"
    )
    if connection.vendor == "postgresql":  # one statement, its own transaction, committed asynchronously
        update = update.replace(" WHERE id", " FROM (SELECT set_config('synchronous_commit', 'off', true)) s WHERE id")
    with _sqlite_without_fsync(), connection.cursor() as cursor:
        cursor.execute(
            update,
            [ratelimit.db_time(now), False, envelope.hostname, envelope.agent_version, envelope.run_as, host.id],
        )
    return store.CHECK_IN


@contextlib.contextmanager
def _sqlite_without_fsync() -> Iterator[None]:
    """SQLite's counterpart of the asynchronous commits above, for the rate counter and last_seen: committed
    without an fsync of their own (synchronous=NORMAL; in WAL mode the commit reaches the disk with the next
    durable one). A power cut may lose the last of them, never a report: reports commit with
    synchronous=FULL, which this restores. Each of those fsyncs cost a check-in most of its time on SQLite.
    SQLite cannot change it inside a transaction: within a caller's one (in-process tests), commits stay as
    they are."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous = NORMAL")
        try:
            yield
        finally:
            cursor.execute("PRAGMA synchronous = FULL")
