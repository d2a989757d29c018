"""A database that cannot be reached is a 503 with Retry-After (agents back off and keep their reports),
never a 500 and a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from clientcheck_server.core.http import refuse
from clientcheck_server.core.load import retry_after

log = logging.getLogger("clientcheck_server")


class DatabaseUnavailable:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)):
            log.warning("database unavailable on %s: %s", request.path, str(exception).strip().splitlines()[0:1])
            return refuse(
                503,
                "unavailable",
                "the database is not available: try again later",
                {"Retry-After": str(retry_after())},
            )
        return None


# Scripts and styles only from this server (no inline script, no inline style: what a host sends can never
# run, even if it slipped past escaping), no framing, forms only to this server, no plugins. Images: ours,
# and data: URLs for none but the browser's own form controls. A view that serves other content (the
# agent's own HTML report) sets its own, stricter policy.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class SecurityHeaders:
    """The headers every answer carries besides Django's own (nosniff, Referrer-Policy)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response["X-Frame-Options"] = "DENY"  # frame-ancestors' older spelling, for older browsers
        response["Cross-Origin-Opener-Policy"] = "same-origin"
        response["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        return response
