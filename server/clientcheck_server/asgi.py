"""The ASGI application gunicorn's workers serve: Django behind the guard (body limits, load shedding)."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientcheck_server.settings")

import django
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

from clientcheck_server.serving.guard import Guard


class Handler(ASGIHandler):
    """Django's ASGI handler with the middleware chain and the view in one call on the worker's Django thread.

    Django builds an ASGI handler's chain around an asynchronous core: with our middleware (all of it can run
    synchronously, and the views are synchronous) a request crossed between the event loop and the Django
    thread four times, each crossing a thread hand-off (bench/loadsim.py profiled with py-spy: most of a
    check-in's time in the worker). Built synchronously and called once through sync_to_async, the whole
    request (middleware, URL resolution, view) runs in one hop, as under a WSGI server.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        chain: Any = self.__dict__["_middleware_chain"]  # set by Django's load_middleware, untyped in the stubs
        self.__dict__["_middleware_chain"] = sync_to_async(chain, thread_sensitive=True)


django.setup(set_prefix=False)
application = Guard(
    Handler(),
    max_body=settings.CONFIG.max_body_bytes,
    body_timeout=settings.CONFIG.body_timeout,
    max_pending=settings.CONFIG.max_pending,
)

# Compile the report schema now, in each worker as it starts, not on its first report.
from clientcheck_server.ingest.schema import check_report  # noqa: E402

try:
    check_report({})
except ValueError:
    pass  # refused, as it must be: the validator is compiled
