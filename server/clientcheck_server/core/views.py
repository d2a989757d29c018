"""Liveness and the server's own metrics."""

from __future__ import annotations

import os

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse

from clientcheck_server.core.http import answer, refuse


def healthz(request: HttpRequest) -> HttpResponse:
    """200 when this process can reach its database, 503 when not (a load balancer takes it out)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return refuse(503, "database", "the database cannot be reached", {"Retry-After": "30"})
    return answer(200, {"status": "ok"})


def metrics(request: HttpRequest) -> HttpResponse:
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    from clientcheck_server.core.metrics import FleetCollector

    if settings.CONFIG.metrics_require_token:
        from clientcheck_server.accounts.auth import authenticate

        if authenticate(request) is None:
            return refuse(401, "unauthorized", "metrics need an API token here (metrics_require_token)")
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    fleet = CollectorRegistry()
    fleet.register(FleetCollector())
    body = generate_latest(registry) + generate_latest(fleet)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
