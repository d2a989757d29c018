"""Fixed-window rate counters in the database, so every server process (and every server machine) counts
together. One upsert per hit: it starts a new window when the old one has passed, else adds one, and
answers the count and the window's start, from which the caller computes Retry-After."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection


class Verdict:
    __slots__ = ("allowed", "count", "retry_after")

    def __init__(self, allowed: bool, count: int, retry_after: int) -> None:
        self.allowed = allowed
        self.count = count
        self.retry_after = retry_after


# The update of an existing counter (shared with the ingest path's one-statement look-up and count).
ON_CONFLICT = """
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN core_ratecounter.window_start <= %s THEN 1 ELSE core_ratecounter.count + 1 END,
    window_start = CASE WHEN core_ratecounter.window_start <= %s THEN excluded.window_start
                        ELSE core_ratecounter.window_start END
RETURNING count, window_start
"""

_HIT = """
INSERT INTO core_ratecounter (key, window_start, count) VALUES (%s, %s, 1)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN core_ratecounter.window_start <= %s THEN 1 ELSE core_ratecounter.count + 1 END,
    window_start = CASE WHEN core_ratecounter.window_start <= %s THEN excluded.window_start
                        ELSE core_ratecounter.window_start END
RETURNING count, window_start
"""

_PEEK = "SELECT count, window_start FROM core_ratecounter WHERE key = %s AND window_start > %s"


def verdict(count: int, start: dt.datetime | str, now: dt.datetime, window: dt.timedelta, limit: int) -> Verdict:
    if isinstance(start, str):  # SQLite hands RETURNING values back as text
        start = dt.datetime.fromisoformat(start)
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.timezone.utc)
    retry = max(1, int((start + window - now).total_seconds()) + 1)
    return Verdict(count <= limit, count, retry)


def hit(key: str, *, now: dt.datetime, window: dt.timedelta, limit: int) -> Verdict:
    """Count one hit against ``key``; allowed while the window's count is at most ``limit``. Must run inside
    the caller's transaction or autocommit; it writes one row."""
    expired = now - window
    with connection.cursor() as cursor:
        at, before = db_time(now), db_time(expired)
        cursor.execute(_HIT, [key, at, before, before])
        count, start = cursor.fetchone()
    return verdict(count, start, now, window, limit)


def peek(key: str, *, now: dt.datetime, window: dt.timedelta, limit: int) -> Verdict:
    """The key's state without counting: used before a failure is known (a good secret must not count)."""
    with connection.cursor() as cursor:
        cursor.execute(_PEEK, [key, db_time(now - window)])
        row = cursor.fetchone()
    if row is None:
        return Verdict(True, 0, 0)
    judged = verdict(row[0], row[1], now, window, limit)
    judged.allowed = row[0] < limit  # this would be hit number count + 1
    return judged


def db_time(moment: dt.datetime) -> Any:
    """A moment as raw SQL takes it on this database (what the ORM would write)."""
    return connection.ops.adapt_datetimefield_value(moment)
