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
