"""``POST /api/v1/enroll``: an enrollment secret buys a host key (shown once, stored as its SHA-256).

Failed attempts are counted per client address in the database (every server process together); past
``enroll_failures_per_hour`` the address is answered 429 until its hour is over, right or wrong secret.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from clientcheck_server.core import ratelimit
from clientcheck_server.core.http import answer, client_address, refuse
from clientcheck_server.core.metrics import ENROLLMENTS
from clientcheck_server.enrollment.service import enroll, find_secret
from clientcheck_server.ingest.envelope import RefusedError, boot_id, hints, parse_json, run_as, text_field, uuid_field

log = logging.getLogger("clientcheck_server.enrollment")
HOUR = dt.timedelta(hours=1)
MAX_BODY = 16_384


def _enrollment_of(body: bytes) -> dict[str, Any]:
    """The fields of an enrollment request, checked; RefusedError (413, 422) says what is wrong."""
    if len(body) > MAX_BODY:
        raise RefusedError(413, "too_large", f"an enrollment is at most {MAX_BODY} bytes")
    document = parse_json(body)
    if not isinstance(document, dict):
        raise RefusedError(422, "bad_request", "the body must be a JSON object")
    platform = document.get("platform", "")
    if platform not in ("", "linux", "macos", "windows"):
        raise RefusedError(422, "bad_request", 'platform must be "linux", "macos" or "windows"')
    return {
        "secret": document.get("secret"),
        "agent_id": uuid_field(document.get("agent_id"), "agent_id"),
        "hostname": text_field(document.get("hostname"), "hostname", 255),
        "hints": hints(document.get("hints", [])),
        "boot_id": boot_id(document.get("boot_id")),
        "run_as": run_as(document.get("run_as")),
        "agent_version": text_field(document.get("agent_version", ""), "agent_version", 32, empty=True),
        "platform": str(platform),
    }


@csrf_exempt
def enroll_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return refuse(405, "method", "POST an enrollment", {"Allow": "POST"})
    config = settings.CONFIG
    now = timezone.now()
    address = client_address(request)
    counter = f"enroll-failures:{address}"
    verdict = ratelimit.peek(counter, now=now, window=HOUR, limit=config.enroll_failures_per_hour)
    if not verdict.allowed:
        ENROLLMENTS.labels(outcome="rate_limited").inc()
        return refuse(
            429,
            "rate_limited",
            "too many failed enrollments from this address: wait",
            {"Retry-After": str(verdict.retry_after)},
        )
    try:
        fields = _enrollment_of(request.body)
    except RefusedError as refused:
        ENROLLMENTS.labels(outcome=refused.error).inc()
        return refuse(refused.status, refused.error, refused.detail)
    secret_value = fields.pop("secret")
    secret = find_secret(secret_value) if isinstance(secret_value, str) else None
    if secret is None:
        with transaction.atomic():
            ratelimit.hit(counter, now=now, window=HOUR, limit=config.enroll_failures_per_hour)
        ENROLLMENTS.labels(outcome="invalid_secret").inc()
        log.warning("enrollment with an unknown or revoked secret from %s", address)
        return refuse(401, "invalid_secret", "this enrollment secret is not valid (unknown or revoked)")
    enrolled = enroll(secret, now=now, **fields)
    ENROLLMENTS.labels(outcome="reimaged" if enrolled.reimaged else "clone" if enrolled.clone else "enrolled").inc()
    host = enrolled.host
    return answer(
        200,
        {
            "host_key": enrolled.key,
            "host_id": host.pk,
            "agent_id": str(host.agent_id),
            "group": host.group.name if host.group_id and host.group else None,
            "reimaged": enrolled.reimaged,
            "clone": enrolled.clone,
            # Ship the first report soon, spread over a minute (a fleet enrolled by one push comes at once).
            "next_check_in": random.randrange(60),  # noqa: S311 - jitter, not a secret
        },
    )
