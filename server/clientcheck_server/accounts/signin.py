"""Signing in to the dashboard with a password: Django's authentication (password hashing, sessions, CSRF),
with failed attempts counted in the database (every server process together, as the enrollment limits):
past ``signin_failures_per_hour`` for one user name, or five times that from one address, sign-in is
refused until the hour is over, before the password is even looked at. Passwords are never logged: the
views are marked sensitive, and the log lines name the user and the address only."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from clientcheck_server.accounts.audit import record
from clientcheck_server.core import ratelimit
from clientcheck_server.core.http import client_address

log = logging.getLogger("clientcheck_server.accounts")
HOUR = dt.timedelta(hours=1)
PER_ADDRESS = 5  # an address may fail this many times the per-user limit (an office behind one NAT)


def next_page(request: HttpRequest, value: str | None) -> str:
    """Where to go after signing in: a path on this server only (never another site: an open redirect
    would lend this server's name to a phishing page)."""
    if value and value.startswith("/") and url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return value
    return "/"


def _limits(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    per_user = settings.CONFIG.signin_failures_per_hour
    name = username.strip().lower()[:150]
    return [(f"signin-user:{name}", per_user), (f"signin-address:{client_address(request)}", per_user * PER_ADDRESS)]


def _refused(request: HttpRequest, retry: int) -> TemplateResponse:
    response = TemplateResponse(
        request,
        "accounts/signin.html",
        {
            "title": "Sign in",
            "error": f"Too many failed sign-ins. Try again in {max(1, retry // 60)} minutes.",
            "password_signin": True,
            "next": next_page(request, request.POST.get("next")),
        },
        status=429,
    )
    response["Retry-After"] = str(retry)
    return response


@sensitive_post_parameters("password")
@sensitive_variables("password")
@never_cache
def signin(request: HttpRequest) -> HttpResponseBase:
    oidc = settings.CONFIG.oidc
    password_signin = oidc is None or oidc.password_signin
    target = next_page(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated and request.method == "GET":
        return redirect(target)
    context = {
        "title": "Sign in",
        "password_signin": password_signin,
        "next": target,
        "username": "",
        "error": request.session.pop("signin_error", "") if request.method == "GET" else "",
    }
    if request.method != "POST" or not password_signin:
        return TemplateResponse(request, "accounts/signin.html", context)
    username = request.POST.get("username", "")[:150]
    password = request.POST.get("password", "")
    context["username"] = username
    now = timezone.now()
    limits = _limits(request, username)
    for key, limit in limits:
        verdict = ratelimit.peek(key, now=now, window=HOUR, limit=limit)
        if not verdict.allowed:
            log.warning("sign-in refused (rate limited) for user %r from %s", username, client_address(request))
            return _refused(request, verdict.retry_after)
    user = authenticate(request, username=username, password=password) if username and password else None
    if user is None:
        with transaction.atomic():
            for key, limit in limits:
                ratelimit.hit(key, now=now, window=HOUR, limit=limit)
        log.warning("sign-in failed for user %r from %s", username, client_address(request))
        context["error"] = "The user name or the password is wrong, or the account is deactivated."
        return TemplateResponse(request, "accounts/signin.html", context, status=401)
    login(request, user)
    record("signin", user.get_username(), actor=user.get_username(), via="web", address=client_address(request))
    return redirect(target)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("/signin")
