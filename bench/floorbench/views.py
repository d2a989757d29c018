"""``POST /bench/floor``: json.loads, one INSERT and one UPDATE in one transaction, raw SQL (durable commit,
as the real ingest's)."""

from __future__ import annotations

import json
import uuid

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

_INSERT = "INSERT INTO floorbench_floorreport (report_id, agent_id, received_at, body) VALUES (%s, %s, %s, %s)"
# Columns the real ingest does not decide by (it reads content_hash), so the two servers can share a store.
_UPDATE = "UPDATE fleet_host SET last_seen = %s, last_changed = %s WHERE agent_id = %s"


def _uuid(text: str) -> object:
    return text if connection.vendor == "postgresql" else uuid.UUID(text).hex  # Django's SQLite spelling


@csrf_exempt
def floor(request: HttpRequest) -> HttpResponse:
    text = request.body.decode("utf-8")
    document = json.loads(text)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    agent = _uuid(document["agent_id"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_INSERT, [_uuid(document["report_id"]), agent, now, text])
        cursor.execute(_UPDATE, [now, now, agent])
    body = json.dumps({"status": "accepted", "report_id": document["report_id"]})
    return HttpResponse(body, status=202, content_type="application/json")
