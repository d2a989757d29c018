"""API tokens on requests: ``Authorization: Bearer cct_…``. A token has a role and optionally a scope of
groups; the read API shows only hosts in scope, and only an admin token may change anything."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone

from clientcheck_server.accounts.models import ADMIN, APIToken
from clientcheck_server.core import credentials
from clientcheck_server.core.http import bearer, refuse

USED_RESOLUTION = dt.timedelta(minutes=1)


class Caller:
    """Who is asking: the token, its role, and the groups it may see (None: all)."""

    __slots__ = ("group_ids", "role", "token")

    def __init__(self, token: APIToken) -> None:
        self.token = token
        self.role = token.role
        ids = [group.pk for group in token.fleet_groups.all()]
        self.group_ids: list[int] | None = ids or None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def actor(self) -> str:
        return f"token:{self.token.prefix}" + (f" ({self.token.name})" if self.token.name else "")

    def hosts_filter(self, prefix: str = "") -> Q:
        """The hosts this caller may see, as a filter on a host relation (``prefix`` like ``"host__"``)."""
        if self.group_ids is None:
            return Q()
        return Q(**{f"{prefix}group_id__in": self.group_ids})

    def scoped(self, queryset: QuerySet[Any], prefix: str = "") -> QuerySet[Any]:
        return queryset.filter(self.hosts_filter(prefix))


def authenticate(request: HttpRequest) -> Caller | None:
    value = bearer(request)
    if value is None or not credentials.well_formed(value, credentials.API_TOKEN):
        return None
    now = timezone.now()
    token = (
        APIToken.objects.prefetch_related("fleet_groups")
        .filter(key_hash=credentials.digest(value), revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or token.last_used_at < now - USED_RESOLUTION:
        APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return Caller(token)


View = Callable[..., HttpResponseBase]


def api_view(*, admin_methods: tuple[str, ...] = ()) -> Callable[[View], View]:
    """A view of the API: a valid token, and the admin role for ``admin_methods``. The view gets the
    Caller as its second argument."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            caller = authenticate(request)
            if caller is None:
                return refuse(
                    401,
                    "unauthorized",
                    "send an API token: Authorization: Bearer cct_… (clientcheck-server token create)",
                    {"WWW-Authenticate": 'Bearer realm="clientcheck-server"'},
                )
            if request.method in admin_methods and not caller.is_admin:
                return refuse(403, "forbidden", "this needs an admin token")
            return view(request, caller, *args, **kwargs)

        wrapper.csrf_exempt = True  # type: ignore[attr-defined]  # token-authenticated: no cookies, no CSRF
        return wrapper

    return decorate
