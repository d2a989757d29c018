"""Who may see and do what on the dashboard.

Every page needs a signed-in user (else: to the sign-in page, coming back afterwards). A user sees the
hosts of their groups only, when they have groups (a host of another group is "not found", never
"forbidden": its existence is not told either). Changing things needs the admin role (else 403); changing
what is the whole fleet's (secrets, tokens, users, settings, alerts, the audit log) needs an admin who is
scoped to no group, since a scoped admin could otherwise make a token or a user that sees more than they
do.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse

from clientcheck_server.accounts.models import User


class Scope:
    """The hosts a user may see: all (group_ids None), or those of some groups."""

    __slots__ = ("group_ids", "user")

    def __init__(self, user: User) -> None:
        self.user = user
        ids = [group.pk for group in user.fleet_groups.all()]
        self.group_ids: list[int] | None = ids or None

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin

    @property
    def is_fleet_admin(self) -> bool:
        return self.user.is_admin and self.group_ids is None

    @property
    def actor(self) -> str:
        return self.user.username

    def hosts_filter(self, prefix: str = "") -> Q:
        if self.group_ids is None:
            return Q()
        return Q(**{f"{prefix}group_id__in": self.group_ids})

    def scoped(self, queryset: QuerySet[Any], prefix: str = "") -> QuerySet[Any]:
        return queryset.filter(self.hosts_filter(prefix))


View = Callable[..., HttpResponseBase]


def scope_of(request: HttpRequest) -> Scope:
    scope = getattr(request, "_scope", None)
    if scope is None:
        assert isinstance(request.user, User)  # noqa: S101 - the decorators below checked it
        scope = Scope(request.user)
        request._scope = scope  # type: ignore[attr-defined]
    return scope


def forbidden(request: HttpRequest, why: str) -> TemplateResponse:
    return TemplateResponse(request, "dashboard/error.html", {"title": "Not allowed", "message": why}, status=403)


def _guard(level: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated or not isinstance(user, User) or not user.is_active:
                return redirect_to_login(request.get_full_path())
            scope = scope_of(request)
            if level == "admin" and not scope.is_admin:
                return forbidden(request, "This needs an admin: you are signed in as a viewer.")
            if level == "fleet" and not scope.is_fleet_admin:
                why = (
                    "This needs an admin of the whole fleet: your account sees only some groups."
                    if scope.is_admin
                    else "This needs an admin: you are signed in as a viewer."
                )
                return forbidden(request, why)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


page = _guard("user")  # any signed-in user
admin_action = _guard("admin")  # an admin (of their scope)
fleet_admin = _guard("fleet")  # an admin of the whole fleet
