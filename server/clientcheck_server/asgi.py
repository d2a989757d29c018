"""The ASGI application gunicorn's workers serve: Django behind the guard (body limits, load shedding)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientcheck_server.settings")

from django.conf import settings
from django.core.asgi import get_asgi_application

from clientcheck_server.serving.guard import Guard

application = Guard(
    get_asgi_application(),
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
