"""``/alerts``: which alerts are on, where digests go (webhooks and e-mail), what was noticed lately and
what was sent. Fleet admins only; every change is audited."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from clientcheck_server.accounts.audit import record
from clientcheck_server.alerts import digest, send
from clientcheck_server.alerts.models import CHANNEL_KINDS, EMAIL, WEBHOOK, AlertSettings, Channel, Delivery, Event
from clientcheck_server.core.http import client_address
from clientcheck_server.dashboard.access import fleet_admin, scope_of


class AlertSettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = AlertSettings
        fields = ["owed_enabled", "stale_enabled", "compliance_enabled", "compliance_threshold", "digest_minutes"]
        labels = {
            "owed_enabled": "Hosts newly owing a required update",
            "stale_enabled": "Hosts going stale",
            "compliance_enabled": "Compliance falling below the threshold",
            "compliance_threshold": "Threshold (% of reporting hosts up to date)",
            "digest_minutes": "At most one digest every (minutes)",
        }

    def clean_compliance_threshold(self) -> int:
        value: int = self.cleaned_data["compliance_threshold"]
        if not 1 <= value <= 100:
            raise ValidationError("between 1 and 100")
        return value

    def clean_digest_minutes(self) -> int:
        value: int = self.cleaned_data["digest_minutes"]
        if not 1 <= value <= 10080:
            raise ValidationError("between 1 minute and a week")
        return value


def _is_address(text: str) -> bool:
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=CHANNEL_KINDS)
    name = forms.CharField(max_length=100, required=False)
    target = forms.CharField(
        max_length=2000,
        label="URL or addresses",
        help_text="a webhook's https:// URL, or e-mail addresses, comma-separated",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target = (data.get("target") or "").strip()
        if data.get("kind") == WEBHOOK:
            try:
                URLValidator(schemes=["https", "http"])(target)
            except ValidationError:
                self.add_error("target", "a webhook needs an http:// or https:// URL")
        elif data.get("kind") == EMAIL:
            addresses = [a.strip() for a in target.split(",") if a.strip()]
            if not addresses or not all(map(_is_address, addresses)):
                self.add_error("target", "give e-mail addresses, separated by commas")
            target = ", ".join(addresses)
        data["target"] = target
        return data


def _audit(request: HttpRequest, action: str, target: str = "", **detail: Any) -> None:
    record(action, target, actor=scope_of(request).actor, via="web", address=client_address(request), **detail)


@never_cache
@fleet_admin
def alerts(request: HttpRequest) -> TemplateResponse:
    current = AlertSettings.current()
    settings_form = AlertSettingsForm(
        request.POST if request.POST.get("form") == "settings" else None, instance=current
    )
    channel_form = ChannelForm(request.POST if request.POST.get("form") == "channel" else None)
    made: dict[str, Any] | None = None
    said = ""
    if request.method == "POST" and request.POST.get("form") == "settings" and settings_form.is_valid():
        with transaction.atomic():
            changed = {name: settings_form.cleaned_data[name] for name in settings_form.changed_data}
            saved = settings_form.save(commit=False)
            saved.updated_at = timezone.now()
            saved.save()
            if changed:
                _audit(request, "alerts.change", "settings", **changed)
        said = "Saved."
    if request.method == "POST" and request.POST.get("form") == "channel" and channel_form.is_valid():
        data = channel_form.cleaned_data
        secret = "ccw_" + secrets.token_urlsafe(32) if data["kind"] == WEBHOOK else ""
        with transaction.atomic():
            channel = Channel.objects.create(
                kind=data["kind"],
                name=data["name"],
                target=data["target"],
                secret=secret,
                created_at=timezone.now(),
                created_by=scope_of(request).actor,
            )
            _audit(request, "alerts.channel.create", f"{channel.kind} {channel.name or channel.target}"[:300])
        made = {"channel": channel, "secret": secret}
        channel_form = ChannelForm()
    return TemplateResponse(
        request,
        "dashboard/alerts.html",
        {
            "title": "Alerts",
            "nav": "alerts",
            "settings_form": settings_form,
            "channel_form": channel_form,
            "made": made,
            "said": said,
            "channels": Channel.objects.order_by("kind", "name", "pk"),
            "events": Event.objects.order_by("-at", "-pk")[:50],
            "deliveries": Delivery.objects.select_related("channel", "digest").order_by("-pk")[:30],
            "smtp": settings.CONFIG.smtp is not None,
        },
    )


@fleet_admin
def channel_action(request: HttpRequest, channel_id: int, action: str) -> HttpResponseBase:
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise Http404("no such channel")
    if request.method != "POST":
        return redirect("/alerts")
    label = f"{channel.kind} {channel.name or channel.target}"[:300]
    if action == "delete":
        with transaction.atomic():
            channel.delete()
            _audit(request, "alerts.channel.delete", label)
        return redirect("/alerts")
    if action == "toggle":
        with transaction.atomic():
            channel.enabled = not channel.enabled
            channel.save(update_fields=["enabled"])
            _audit(request, "alerts.channel.enable" if channel.enabled else "alerts.channel.disable", label)
        return redirect("/alerts")
    # A test: a digest with no events, sent now, so the admin sees the receiver take it (or why not).
    now = timezone.now()
    document = digest.payload("test", [], 0, {}, now)
    document["summary"] = "a test of this channel from the dashboard"
    try:
        if channel.kind == EMAIL:
            subject, text = digest.text_of(document)
            send.email([a.strip() for a in channel.target.split(",")], subject, text)
        else:
            send.webhook(channel.target, channel.secret, document, "test", now=now.timestamp())
        outcome, status = "The test was delivered.", 200
    except send.SendError as error:
        outcome, status = f"The test was not delivered: {error}", 502
    _audit(request, "alerts.channel.test", label, outcome=outcome)
    return TemplateResponse(
        request,
        "dashboard/error.html",
        {"title": "Test of a channel", "message": outcome, "back": "/alerts"},
        status=status,
    )
