"""``POST /api/v1/reports``: one report in its envelope, authenticated by the host's key.

Answers (docs/collector-protocol.md): 202 after the report is committed (or recognised as a check-in,
a duplicate or an older report), with ``next_check_in``; 401 ``reenroll`` / ``revoked``; 413 and 422
permanent (the agent drops that report); 429 and 503 with Retry-After.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from clientcheck_server.core import credentials, load, ratelimit
from clientcheck_server.core.http import answer, bearer, refuse
from clientcheck_server.core.metrics import INGEST_SECONDS, REPORTS
from clientcheck_server.enrollment.models import CLONE, DELETED, HostKey
from clientcheck_server.fleet.models import Host
from clientcheck_server.ingest import store
from clientcheck_server.ingest.envelope import Envelope, RefusedError, decode_body, parse_json
from clientcheck_server.ingest.identity import CLONED, check_identity
from clientcheck_server.ingest.schema import check_report

log = logging.getLogger("clientcheck_server.ingest")
HOUR = dt.timedelta(hours=1)
# An unchanged report moves last_seen at most this often: a check-in is a read, not a write.
SEEN_RESOLUTION = dt.timedelta(minutes=1)


def _unauthorized(reason: str, detail: str, *, reset_agent_id: bool = False) -> HttpResponse:
    REPORTS.labels(outcome=reason).inc()
    extra = {"reset_agent_id": True} if reset_agent_id else {}
    return refuse(401, reason, detail, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, **extra)


def _nondurable() -> None:
    """This transaction may be lost if the database machine crashes in the next fraction of a second:
    for counters and last_seen, which the next request writes again, never for a report."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


@csrf_exempt
def reports(request: HttpRequest) -> HttpResponse:
    started = time.perf_counter()
    if request.method != "POST":
        return refuse(405, "method", "POST a report", {"Allow": "POST"})
    token = bearer(request)
    if token is None or not credentials.well_formed(token, credentials.HOST_KEY):
        return _unauthorized("reenroll", "no host key, or not one this server made: enroll again")
    key = HostKey.objects.select_related("host").filter(key_hash=credentials.digest(token)).first()
    if key is None:
        return _unauthorized("reenroll", "this host key is not known here: enroll again")
    if key.revoked_at is not None or key.host is None:
        if key.revoked_reason == DELETED or key.host is None:
            return _unauthorized("revoked", "an admin removed this host from the collector: stop shipping")
        return _unauthorized(
            "reenroll", "this host key was replaced: enroll again", reset_agent_id=key.revoked_reason == CLONE
        )
    host = key.host
    config = settings.CONFIG
    now = timezone.now()
    with transaction.atomic():
        _nondurable()
        verdict = ratelimit.hit(f"host:{host.pk}", now=now, window=HOUR, limit=config.host_requests_per_hour)
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
        if check_identity(host, envelope, now) == CLONED:
            return _unauthorized(
                "reenroll",
                "this agent id and key report from two machines: make a new agent id and enroll again",
                reset_agent_id=True,
            )
        if envelope.content_hash == host.content_hash:
            outcome = _check_in(host, envelope, now)
        else:
            check_report(envelope.report)
            spool_age = dt.timedelta(days=_report_id_retention())
            outcome = store.apply_report(host.pk, envelope, now, spool_age)
    except RefusedError as refused:
        REPORTS.labels(outcome=refused.error).inc()
        log.info("report refused (%s) from host %s: %s", refused.error, host.pk, refused.detail)
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


def _envelope_of(request: HttpRequest, host: Host, limit: int) -> Envelope:
    body = decode_body(request.body, request.META.get("HTTP_CONTENT_ENCODING", ""), limit)
    envelope = Envelope(parse_json(body))
    if envelope.agent_id != host.agent_id:
        raise RefusedError(422, "agent_mismatch", "agent_id is not the agent this host key was given to")
    return envelope


def _check_in(host: Host, envelope: Envelope, now: dt.datetime) -> str:
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
    with transaction.atomic():
        _nondurable()
        Host.objects.filter(pk=host.pk).update(
            last_seen=now,
            stale=False,
            archived_at=None,
            hostname=envelope.hostname,
            agent_version=envelope.agent_version,
            run_as=envelope.run_as,
        )
    return store.CHECK_IN


def _report_id_retention() -> int:
    from clientcheck_server.fleet.models import FleetSettings

    return FleetSettings.current().report_id_retention_days
