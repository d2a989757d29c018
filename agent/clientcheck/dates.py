"""``date``, ``datetime``, ``timedelta`` and ``timezone``, taken from CPython's C implementation when it is
there: on Python 3.11, ``import datetime`` first runs the whole pure-Python implementation and then
replaces it with the C one, 1.5 ms of every run. They are the very same classes either way.

Modules use it as ``from clientcheck import dates as dt`` and then ``dt.date`` as usual.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import date as date
    from datetime import datetime as datetime
    from datetime import timedelta as timedelta
    from datetime import timezone as timezone
else:
    try:
        from _datetime import date, datetime, timedelta, timezone
    except ImportError:  # another Python implementation
        from datetime import date, datetime, timedelta, timezone

__all__ = ["date", "datetime", "timedelta", "timezone"]
