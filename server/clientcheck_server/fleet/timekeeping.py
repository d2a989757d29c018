"""The server's clock is the clock of history. Deadlines are dates; a date is a day in the server's
configured time zone (settings.TIME_ZONE), the same zone the daily rollup buckets by."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

from django.conf import settings

# A report dated more than this ahead of the server's clock was written by an agent whose clock is ahead.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@functools.cache
def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def server_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(_zone()).date()


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=_zone())


def parse_timestamp(text: str) -> dt.datetime:
    """A report's ``generated_at`` (the schema guarantees ``YYYY-MM-DDTHH:MM:SSZ``)."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def effective_time(generated: dt.datetime, received: dt.datetime, oldest: dt.timedelta) -> tuple[dt.datetime, bool]:
    """The moment that orders a host's reports, and whether the agent's clock is off. A report dated ahead
    of the server, or further back than a spooled report can be (``oldest``), counts as made when it
    arrived: so it never stays "latest" by a date in the future, and a clock a year slow still updates."""
    if generated > received + FUTURE_TOLERANCE or generated < received - oldest:
        return received, True
    return generated, False
