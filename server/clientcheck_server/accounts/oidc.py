"""Signing in through an OpenID Connect provider ([oidc] in server.toml): the authorization code flow with
PKCE, state and nonce (authlib's client), the ID token checked against the provider's published keys, and
the provider's claims mapped to a user of ours: their name, their role, the fleet groups they may see. A
user is made at their first sign-in and updated at every one after (a role or group changed at the
provider takes effect at the next sign-in).

Mapping (docs/dashboard.md): a member of one of ``admin_groups`` is an admin; else, when ``viewer_groups``
is set, only its members may sign in (as viewers); else anyone the provider signs in is a viewer. With a
``group_map``, a user who is in none of ``unscoped_groups`` sees only the fleet groups their provider
groups map to, and is refused when they map to none (no scope would mean every host).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache

from clientcheck_server.accounts.audit import record
from clientcheck_server.accounts.models import ADMIN, VIEWER, User
from clientcheck_server.accounts.signin import next_page
from clientcheck_server.conf import OIDC
from clientcheck_server.core.http import client_address
from clientcheck_server.fleet.models import Group

log = logging.getLogger("clientcheck_server.accounts")
CALLBACK = "/signin/oidc/callback"


class RefusedError(Exception):
    """The provider signed the person in, but the mapping gives them no access here; says why."""


@dataclass(frozen=True)
class Mapped:
    subject: str  # "ISSUER SUB"
    username: str
    email: str
    role: str
    groups: tuple[str, ...]  # fleet group names; empty: every host
    time_zone: str


def _claim_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, (str, int))]
    return []


def map_claims(config: OIDC, claims: dict[str, Any]) -> Mapped:
    """Who the provider says this is, as a user of ours; Refused when they may not sign in here."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise RefusedError("the provider sent no subject (sub)")
    username = claims.get(config.username_claim)
    if not isinstance(username, str) or not username.strip():
        raise RefusedError(f"the provider sent no {config.username_claim!r} claim to name the user by")
    username = username.strip()[:150]
    if not username.isprintable():
        raise RefusedError("the user name the provider sent has control characters")
    theirs = set(_claim_list(claims.get(config.groups_claim)))
    if theirs & set(config.admin_groups):
        role = ADMIN
    elif not config.viewer_groups or theirs & set(config.viewer_groups):
        role = VIEWER
    else:
        raise RefusedError(f"{username} is in none of the provider groups allowed here")
    groups: tuple[str, ...] = ()
    if config.group_map and not theirs & set(config.unscoped_groups):
        groups = tuple(sorted({fleet for provider, fleet in config.group_map if provider in theirs}))
        if not groups:
            raise RefusedError(f"{username} is in no provider group that maps to a fleet group")
    email = claims.get("email") if isinstance(claims.get("email"), str) else ""
    zone = claims.get("zoneinfo") if isinstance(claims.get("zoneinfo"), str) else ""
    from clientcheck_server.dashboard.middleware import zone as known_zone

    return Mapped(
        subject=f"{config.issuer} {sub}",
        username=username,
        email=str(email)[:254],
        role=role,
        groups=groups,
        time_zone=str(zone) if zone and known_zone(str(zone)) else "",
    )


def apply(mapped: Mapped, *, address: str) -> User:
    """The user for these claims, made or updated, with the change in the audit log."""
    now = timezone.now()
    actor = f"oidc:{mapped.username}"
    with transaction.atomic():
        user = User.objects.select_for_update().filter(oidc_subject=mapped.subject).first()
        made = user is None
        if user is None:
            if User.objects.filter(username=mapped.username).exists():
                raise RefusedError(
                    f"a user named {mapped.username!r} exists here already, not made by this provider: "
                    "an admin must rename or remove it first"
                )
            user = User(username=mapped.username, oidc_subject=mapped.subject, date_joined=now)
            user.set_unusable_password()
        elif not user.is_active:
            raise RefusedError(f"{user.username} is deactivated here")
        before = (user.role, sorted(g.name for g in user.fleet_groups.all()) if not made else None)
        user.email = mapped.email
        user.role = mapped.role
        if mapped.time_zone and not user.time_zone:
            user.time_zone = mapped.time_zone
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise RefusedError(f"a user named {mapped.username!r} exists here already") from None
        groups = [Group.objects.get_or_create(name=name, defaults={"created_at": now})[0] for name in mapped.groups]
        user.fleet_groups.set(groups)
        after = (user.role, sorted(mapped.groups))
        if made:
            record(
                "user.create",
                user.username,
                actor=actor,
                via="oidc",
                address=address,
                role=user.role,
                groups=list(mapped.groups),
            )
        elif before != after:
            record(
                "user.change",
                user.username,
                actor=actor,
                via="oidc",
                address=address,
                role=user.role,
                groups=list(mapped.groups),
            )
    return user


@functools.cache
def client() -> Any:
    """authlib's client for the provider, made once per process (it caches the provider's metadata)."""
    from authlib.integrations.django_client import OAuth

    config = settings.CONFIG.oidc
    assert config is not None  # noqa: S101 - the views check first
    oauth = OAuth()
    return oauth.register(
        "provider",
        client_id=config.client_id,
        client_secret=config.client_secret or None,
        server_metadata_url=config.issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": " ".join(config.scopes),
            "code_challenge_method": "S256",
            "verify": config.ca_bundle or True,
            "default_timeout": 15,
        },
    )


def _fail(request: HttpRequest, message: str) -> HttpResponseBase:
    request.session["signin_error"] = message
    return redirect("/signin")


@never_cache
def start(request: HttpRequest) -> HttpResponseBase:
    if settings.CONFIG.oidc is None:
        return redirect("/signin")
    request.session["oidc_next"] = next_page(request, request.GET.get("next"))
    try:
        return client().authorize_redirect(request, request.build_absolute_uri(CALLBACK))  # type: ignore[no-any-return]
    except Exception as error:  # the provider cannot be reached, or answers nonsense
        log.warning("OpenID Connect provider unavailable: %s", error)
        return _fail(request, "The sign-in provider cannot be reached. Try again later, or ask an admin.")


def _claims(provider: Any, request: HttpRequest, config: OIDC) -> dict[str, Any]:
    """The ID token's claims (checked by authlib: signature, issuer, audience, expiry, nonce), with the
    userinfo endpoint's when the groups claim is not in the token."""
    token = provider.authorize_access_token(request)
    claims = dict(token.get("userinfo") or {})
    if not claims:
        raise RefusedError("the provider sent no ID token")
    metadata = provider.load_server_metadata()
    if metadata.get("issuer", "").rstrip("/") != config.issuer.rstrip("/"):
        raise RefusedError("the provider calls itself by another issuer than the one configured")
    if config.groups_claim not in claims and metadata.get("userinfo_endpoint"):
        extra = dict(provider.userinfo(token=token))
        if extra.get("sub") == claims.get("sub"):  # the same person, or nothing from it
            claims = {**extra, **claims}
    return claims


@never_cache
def callback(request: HttpRequest) -> HttpResponseBase:
    config = settings.CONFIG.oidc
    if config is None:
        return redirect("/signin")
    # authlib's own errors: a refused or mismatched authorization, a token that does not check out.
    from authlib.common.errors import AuthlibBaseError

    address = client_address(request)
    provider = client()
    try:
        user = apply(map_claims(config, _claims(provider, request, config)), address=address)
    except RefusedError as refusal:
        log.warning("OpenID Connect sign-in refused from %s: %s", address, refusal)
        return _fail(request, f"Sign-in refused: {refusal}.")
    except (AuthlibBaseError, KeyError, ValueError) as error:
        log.warning("OpenID Connect sign-in failed from %s: %s", address, error)
        return _fail(request, "The sign-in did not complete (it expired, or was not started here). Try again.")
    except Exception as error:  # the provider cannot be reached mid-way
        log.warning("OpenID Connect provider failed from %s: %s", address, error)
        return _fail(request, "The sign-in provider cannot be reached. Try again later, or ask an admin.")
    target = request.session.pop("oidc_next", "/")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    record("signin", user.username, actor=user.username, via="oidc", address=address)
    return redirect(next_page(request, target))
