"""What every page's template knows besides its own context: the user's scope and role, the time zone
shown, whether sign-in through a provider is on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from clientcheck_server import __version__


def dashboard(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    context: dict[str, Any] = {
        "version": __version__,
        "zone_name": timezone.get_current_timezone_name(),
        "oidc_label": settings.CONFIG.oidc.label if settings.CONFIG.oidc else "",
        "signed_in": signed_in,
    }
    if signed_in:
        from clientcheck_server.dashboard.access import scope_of

        scope = scope_of(request)
        context["is_admin"] = scope.is_admin
        context["is_fleet_admin"] = scope.is_fleet_admin
        context["scoped"] = scope.group_ids is not None
    return context
