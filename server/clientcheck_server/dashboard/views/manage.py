"""The fleet admin's pages: enrollment secrets and API tokens (made and shown once, revoked), users, the
fleet's windows, the audit log. Every change is written to the audit log in its own transaction, with who
did it and from where; a new secret or token is shown in the answer to the form that made it and never
again (the page is not cached, and the server keeps only its SHA-256)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from clientcheck_server.accounts.audit import record
from clientcheck_server.accounts.models import APIToken, AuditEvent, User
from clientcheck_server.core import credentials
from clientcheck_server.dashboard import exports, forms, listing
from clientcheck_server.dashboard.access import fleet_admin, scope_of
from clientcheck_server.dashboard.views.common import client_address
from clientcheck_server.enrollment.models import EnrollmentSecret
from clientcheck_server.fleet.filtersets import FilterError
from clientcheck_server.fleet.groups import group_named
from clientcheck_server.fleet.models import FleetSettings

AUDIT_SORT = listing.Sort("-at", "newest first", "at", descending=True, kind="time")


def _audit(request: HttpRequest, action: str, target: str = "", **detail: Any) -> None:
    record(action, target, actor=scope_of(request).actor, via="web", address=client_address(request), **detail)


# ------------------------------------------------------------------------------------- enrollment secrets


@never_cache
@fleet_admin
def secrets(request: HttpRequest) -> TemplateResponse:
    form = forms.SecretForm(request.POST or None)
    made = None
    if request.method == "POST" and form.is_valid():
        value = credentials.new(credentials.SECRET)
        actor = scope_of(request).actor
        with transaction.atomic():
            group = (
                group_named(form.cleaned_data["group"], actor=actor, via="web") if form.cleaned_data["group"] else None
            )
            secret = EnrollmentSecret.objects.create(
                name=form.cleaned_data["name"],
                prefix=credentials.prefix(value),
                key_hash=credentials.digest(value),
                group=group,
                created_at=timezone.now(),
                created_by=actor,
            )
            _audit(request, "secret.create", secret.prefix, group=group.name if group else None)
        made = {"value": value, "item": secret}
        form = forms.SecretForm()
    return TemplateResponse(
        request,
        "dashboard/secrets.html",
        {
            "title": "Enrollment secrets",
            "nav": "secrets",
            "form": form,
            "made": made,
            "items": EnrollmentSecret.objects.select_related("group").order_by("-created_at"),
        },
    )


@fleet_admin
def secret_revoke(request: HttpRequest, secret_id: int) -> HttpResponseBase:
    secret = EnrollmentSecret.objects.filter(pk=secret_id).first()
    if secret is None:
        raise Http404("no such secret")
    if request.method != "POST":
        return TemplateResponse(
            request,
            "dashboard/confirm.html",
            {
                "title": f"Revoke {secret.prefix}…",
                "question": f"Revoke the enrollment secret {secret.prefix}… ({secret.name or 'no name'})?",
                "consequence": "No machine can enroll with it any more. Hosts enrolled with it keep working.",
                "button": "Revoke",
                "cancel": "/secrets",
            },
        )
    with transaction.atomic():
        if secret.revoked_at is None:
            secret.revoked_at = timezone.now()
            secret.save(update_fields=["revoked_at"])
            _audit(request, "secret.revoke", secret.prefix)
    return redirect("/secrets")


# ----------------------------------------------------------------------------------------------- tokens


@never_cache
@fleet_admin
def tokens(request: HttpRequest) -> TemplateResponse:
    form = forms.TokenForm(request.POST or None)
    made = None
    if request.method == "POST" and form.is_valid():
        value = credentials.new(credentials.API_TOKEN)
        now = timezone.now()
        days = form.cleaned_data["expires_days"]
        with transaction.atomic():
            token = APIToken.objects.create(
                name=form.cleaned_data["name"],
                prefix=credentials.prefix(value),
                key_hash=credentials.digest(value),
                role=form.cleaned_data["role"],
                created_at=now,
                created_by=scope_of(request).actor,
                expires_at=now + dt.timedelta(days=days) if days else None,
            )
            token.fleet_groups.set(form.cleaned_data["groups"])
            _audit(
                request,
                "token.create",
                token.prefix,
                role=token.role,
                groups=[group.name for group in form.cleaned_data["groups"]],
            )
        made = {"value": value, "item": token}
        form = forms.TokenForm()
    return TemplateResponse(
        request,
        "dashboard/tokens.html",
        {
            "title": "API tokens",
            "nav": "tokens",
            "form": form,
            "made": made,
            "items": APIToken.objects.prefetch_related("fleet_groups").order_by("-created_at"),
            "now": timezone.now(),
        },
    )


@fleet_admin
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponseBase:
    token = APIToken.objects.filter(pk=token_id).first()
    if token is None:
        raise Http404("no such token")
    if request.method != "POST":
        return TemplateResponse(
            request,
            "dashboard/confirm.html",
            {
                "title": f"Revoke {token.prefix}…",
                "question": f"Revoke the API token {token.prefix}… ({token.name or 'no name'})?",
                "consequence": "Scripts using it are refused from now on.",
                "button": "Revoke",
                "cancel": "/tokens",
            },
        )
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            _audit(request, "token.revoke", token.prefix)
    return redirect("/tokens")


# ------------------------------------------------------------------------------------------------ users


@never_cache
@fleet_admin
def users(request: HttpRequest) -> TemplateResponse:
    return TemplateResponse(
        request,
        "dashboard/users.html",
        {"title": "Users", "nav": "users", "items": User.objects.prefetch_related("fleet_groups").order_by("username")},
    )


@sensitive_post_parameters("password")
@sensitive_variables("password")
@never_cache
@fleet_admin
def user_edit(request: HttpRequest, user_id: int | None = None) -> HttpResponseBase:
    editing = User.objects.filter(pk=user_id).first() if user_id is not None else None
    if user_id is not None and editing is None:
        raise Http404("no such user")
    initial: dict[str, Any] = {}
    if editing is not None:
        initial = {
            "username": editing.username,
            "email": editing.email,
            "role": editing.role,
            "groups": list(editing.fleet_groups.all()),
        }
    form = forms.UserForm(request.POST or None, initial=initial, editing=editing)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        me = request.user.pk
        if editing is not None and editing.pk == me and (data["role"] != editing.role or data["groups"]):
            form.add_error("role", "you cannot lower your own role or scope yourself: ask another admin")
        else:
            with transaction.atomic():
                user = editing or User(username=data["username"])
                user.email = data["email"]
                user.role = data["role"]
                password = data.get("password") or ""
                if password:
                    user.set_password(password)
                user.save()
                user.fleet_groups.set(data["groups"])
                _audit(
                    request,
                    "user.change" if editing else "user.create",
                    user.username,
                    role=user.role,
                    groups=[g.name for g in data["groups"]],
                    password_set=bool(password),
                )
            return redirect("/users")
    return TemplateResponse(
        request,
        "dashboard/user_edit.html",
        {
            "title": f"User {editing.username}" if editing else "New user",
            "nav": "users",
            "form": form,
            "editing": editing,
        },
    )


@fleet_admin
def user_active(request: HttpRequest, user_id: int) -> HttpResponseBase:
    """Deactivate (cannot sign in; their sessions end) or reactivate a user."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise Http404("no such user")
    if request.method != "POST":
        verb = "Deactivate" if user.is_active else "Reactivate"
        return TemplateResponse(
            request,
            "dashboard/confirm.html",
            {
                "title": f"{verb} {user.username}",
                "question": f"{verb} the user {user.username}?",
                "consequence": "They are signed out and cannot sign in until reactivated."
                if user.is_active
                else "They can sign in again.",
                "button": verb,
                "cancel": "/users",
            },
        )
    if user.pk == request.user.pk:
        refusal = {"title": "Refused", "message": "You cannot deactivate yourself."}
        return TemplateResponse(request, "dashboard/error.html", refusal, status=400)
    with transaction.atomic():
        user.is_active = not user.is_active
        user.save(update_fields=["is_active"])
        _audit(request, "user.activate" if user.is_active else "user.deactivate", user.username)
    return redirect("/users")


# ------------------------------------------------------------------------------------------ fleet windows


@fleet_admin
def fleet_settings(request: HttpRequest) -> TemplateResponse:
    current = FleetSettings.current()
    names = list(forms.SettingsForm.base_fields)
    form = forms.SettingsForm(request.POST or None, initial={name: getattr(current, name) for name in names})
    saved = False
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            current = FleetSettings.objects.select_for_update().get(pk=current.pk)
            for name in names:
                old, new = getattr(current, name), form.cleaned_data[name]
                if old != new:
                    setattr(current, name, new)
                    _audit(request, "settings.change", name, old=old, new=new)
            current.updated_at = timezone.now()
            current.save()
        saved = True
    return TemplateResponse(
        request, "dashboard/settings.html", {"title": "Settings", "nav": "settings", "form": form, "saved": saved}
    )


# -------------------------------------------------------------------------------------------- audit log


def _audit_events(request: HttpRequest) -> Any:
    events = AuditEvent.objects.all()
    if action := request.GET.get("action", "").strip():
        events = events.filter(Q(action=action) | Q(action__startswith=f"{action}."))
    if actor := request.GET.get("actor", "").strip():
        events = events.filter(actor__icontains=actor)
    if target := request.GET.get("target", "").strip():
        events = events.filter(target__icontains=target)
    return events


@fleet_admin
def audit(request: HttpRequest) -> TemplateResponse:
    events = _audit_events(request)
    context: dict[str, Any] = {"title": "Audit log", "nav": "audit"}
    try:
        context["page"] = listing.keyset_page(
            events, AUDIT_SORT, after=request.GET.get("after"), before=request.GET.get("before"), limit=50
        )
    except FilterError as error:
        context.update(page=None, error=str(error))
    context["actions"] = sorted(
        {a.split(".")[0] for a in AuditEvent.objects.values_list("action", flat=True).distinct()[:200]}
    )
    return TemplateResponse(request, "dashboard/audit.html", context)


AUDIT_COLUMNS = ["at", "actor", "via", "action", "target", "address", "detail"]


def _audit_item(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "actor": event.actor,
        "via": event.via,
        "action": event.action,
        "target": event.target,
        "address": event.address,
        "detail": event.detail,
    }


@fleet_admin
def audit_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    import json

    events = _audit_events(request).order_by("-at", "-pk").iterator(chunk_size=exports.CHUNK)
    if fmt == "csv":
        rows = (
            [item[c] if c != "detail" else json.dumps(item[c], ensure_ascii=False) for c in AUDIT_COLUMNS]
            for item in map(_audit_item, events)
        )
        return exports.csv_response(request, "audit", AUDIT_COLUMNS, rows)
    return exports.json_response(request, "audit", events, _audit_item)
