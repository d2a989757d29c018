"""``/account``: the signed-in user's own settings: their time zone, their password."""

from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.views.decorators.debug import sensitive_post_parameters

from clientcheck_server.accounts.audit import record
from clientcheck_server.accounts.models import User
from clientcheck_server.dashboard import forms
from clientcheck_server.dashboard.access import page
from clientcheck_server.dashboard.views.common import client_address


@sensitive_post_parameters("current", "new")
@page
def account(request: HttpRequest) -> TemplateResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - @page checked it
    zone_form = forms.AccountForm(
        request.POST if request.POST.get("form") == "zone" else None, initial={"time_zone": user.time_zone}
    )
    password_form = forms.PasswordForm(user, request.POST if request.POST.get("form") == "password" else None)
    said = ""
    if request.method == "POST" and request.POST.get("form") == "zone" and zone_form.is_valid():
        user.time_zone = zone_form.cleaned_data["time_zone"]
        user.save(update_fields=["time_zone"])
        said = "Your time zone is saved."
    elif (
        request.method == "POST"
        and request.POST.get("form") == "password"
        and user.has_usable_password()
        and password_form.is_valid()
    ):
        with transaction.atomic():
            user.set_password(password_form.cleaned_data["new"])
            user.save(update_fields=["password"])
            record("user.password", user.username, actor=user.username, via="web", address=client_address(request))
        update_session_auth_hash(request, user)  # this session stays; the user's others end
        said = "Your password is changed. Your other sessions are signed out."
        password_form = forms.PasswordForm(user)
    return TemplateResponse(
        request,
        "dashboard/account.html",
        {
            "title": "Your account",
            "nav": "account",
            "zone_form": zone_form,
            "password_form": password_form,
            "said": said,
            "local": user.has_usable_password(),
        },
    )
