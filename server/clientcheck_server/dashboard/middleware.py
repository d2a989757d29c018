"""Each signed-in user's dates in their own time zone (set on their account page, or by their OpenID
Connect provider's zoneinfo claim); others in the server's."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


@functools.lru_cache(maxsize=64)
def zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class UserTimeZone:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only pages carry a session cookie: the API and reports never load a user here.
        if request.COOKIES and not request.path.startswith("/api/"):
            user = request.user
            name = getattr(user, "time_zone", "") if user.is_authenticated else ""
            chosen = zone(name) if name else None
            if chosen is not None:
                timezone.activate(chosen)
                try:
                    return self.get_response(request)
                finally:
                    timezone.deactivate()
        return self.get_response(request)
