"""The dashboard's share of housekeeping: expired sessions go (Django keeps them until removed), so the
session table holds the people signed in now, not every sign-in there ever was."""

from __future__ import annotations

import datetime as dt


def prune_sessions(now: dt.datetime) -> int:
    from django.contrib.sessions.models import Session

    removed, _ = Session.objects.filter(expire_date__lt=now).delete()
    return removed
