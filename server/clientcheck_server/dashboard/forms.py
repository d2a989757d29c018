"""The admin's forms: each field checked here, with the message shown beside it."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from clientcheck_server.accounts.models import ADMIN, VIEWER, User
from clientcheck_server.fleet.models import Group

NAME_HELP = "a note to tell them apart, like the office or the rollout it is for"


def _group_name(value: str) -> str:
    value = value.strip()
    if value and (len(value) > 100 or not value.isprintable()):
        raise ValidationError("a group name is 1 to 100 printable characters")
    return value


class SecretForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text=NAME_HELP)
    group = forms.CharField(
        max_length=100, required=False, help_text="hosts enrolled with it join this group (made if new)"
    )

    def clean_group(self) -> str:
        return _group_name(self.cleaned_data["group"])


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text=NAME_HELP)
    role = forms.ChoiceField(choices=[(VIEWER, "viewer: reads"), (ADMIN, "admin: may also delete hosts")])
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="none: every host",
    )
    expires_days = forms.IntegerField(min_value=0, max_value=3650, initial=0, help_text="0: never")


class UserForm(forms.Form):
    username = forms.CharField(max_length=150, label="User name")
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=[(VIEWER, "viewer: reads"), (ADMIN, "admin: reads and changes")])
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="none: every host",
    )
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False), strip=False, required=False, help_text="at least 12 characters"
    )

    def __init__(self, *args: Any, editing: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing is not None:
            self.fields["username"].disabled = True
            self.fields["password"].help_text = "leave empty to keep the password"

    def clean_username(self) -> str:
        name: str = self.cleaned_data["username"]
        if self.editing is not None:
            return self.editing.username
        if not name.isprintable() or any(c.isspace() for c in name):
            raise ValidationError("1 to 150 printable characters, no spaces")
        if User.objects.filter(username=name).exists():
            raise ValidationError("a user of that name exists already")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password") or ""
        if self.editing is None and not password:
            self.add_error("password", "a new user needs a password")
        elif password:
            candidate = self.editing or User(username=data.get("username", ""), email=data.get("email", ""))
            try:
                validate_password(password, candidate)
            except ValidationError as error:
                self.add_error("password", error)
        return data


class SettingsForm(forms.Form):
    stale_after_days = forms.IntegerField(min_value=1, max_value=3650, help_text="a host silent this long is stale")
    archive_after_days = forms.IntegerField(
        min_value=1, max_value=3650, help_text="a host silent this long is archived (it comes back when it reports)"
    )
    reimage_after_days = forms.IntegerField(
        min_value=1, max_value=3650, help_text="a new agent id with a silent host's hints after this long is that host"
    )
    history_retention_days = forms.IntegerField(
        min_value=1, max_value=36500, help_text="state changes and daily counts older than this are removed"
    )
    report_id_retention_days = forms.IntegerField(
        min_value=1, max_value=3650, help_text="report ids are remembered this long (at least an agent's spool age)"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        stale, archive = data.get("stale_after_days"), data.get("archive_after_days")
        if stale and archive and archive < stale:
            self.add_error("archive_after_days", "must not be shorter than the stale window")
        return data


def _zones() -> list[tuple[str, str]]:
    return [("", "the server's time zone")] + [(name, name) for name in sorted(zoneinfo.available_timezones())]


class AccountForm(forms.Form):
    time_zone = forms.ChoiceField(choices=_zones, required=False, help_text="the zone dates are shown in")


class PasswordForm(forms.Form):
    current = forms.CharField(widget=forms.PasswordInput, strip=False, label="Current password")
    new = forms.CharField(widget=forms.PasswordInput, strip=False, label="New password")

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_current(self) -> str:
        value: str = self.cleaned_data["current"]
        if not self.user.check_password(value):
            raise ValidationError("that is not your current password")
        return value

    def clean_new(self) -> str:
        value: str = self.cleaned_data["new"]
        validate_password(value, self.user)
        return value
