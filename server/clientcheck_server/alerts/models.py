"""Alerts: what housekeeping noticed (events), batched into digests, and each digest's delivery to each
channel (a webhook or e-mail), kept until it is delivered or given up on."""

from __future__ import annotations

import uuid

from django.db import models

from clientcheck_server.fleet.models import Host

OWED = "owed"  # a host newly owes a required rule
STALE = "stale"  # a host went stale (silent for stale_after_days)
COMPLIANCE = "compliance"  # the share of compliant hosts fell below the threshold (the fleet, or a group)
KINDS = [(OWED, "hosts newly owing a required rule"), (STALE, "hosts going stale"), (COMPLIANCE, "compliance")]

WEBHOOK = "webhook"
EMAIL = "email"
CHANNEL_KINDS = [(WEBHOOK, "webhook (JSON, HMAC-signed)"), (EMAIL, "e-mail")]

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


class AlertSettings(models.Model):
    """One row: which alerts are on, the threshold, how often digests go out, and where the last run
    stopped looking."""

    owed_enabled = models.BooleanField(default=True)
    stale_enabled = models.BooleanField(default=True)
    compliance_enabled = models.BooleanField(default=True)
    compliance_threshold = models.PositiveSmallIntegerField(default=90)  # percent of reporting hosts
    digest_minutes = models.PositiveIntegerField(default=60)  # at most one digest this often
    # State changes and stale marks up to this moment have been looked at.
    watermark = models.DateTimeField(null=True, blank=True)
    # Which scopes ("fleet", or a group's id) were below the threshold at the last run: an alert is sent
    # when one falls below, not again at every run while it stays there.
    below = models.JSONField(default=list, blank=True)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "alert settings"

    @classmethod
    def current(cls) -> AlertSettings:
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings


class Channel(models.Model):
    kind = models.CharField(max_length=8, choices=CHANNEL_KINDS)
    name = models.CharField(max_length=100, blank=True, default="")
    # A webhook's URL, or e-mail addresses separated by commas.
    target = models.CharField(max_length=2000)
    # The key a webhook's body is signed with (HMAC-SHA256); shown once, kept to sign with.
    secret = models.CharField(max_length=100, blank=True, default="")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return f"{self.kind} {self.name or self.target}"


class Digest(models.Model):
    """A batch of events, as sent: the same body on every retry."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True)
    created_at = models.DateTimeField(db_index=True)
    payload = models.JSONField()

    def __str__(self) -> str:
        return f"digest {self.uid}"


class Event(models.Model):
    kind = models.CharField(max_length=12, choices=KINDS)
    at = models.DateTimeField()
    # What makes an event the same one when looked at twice (a state change's id, a host's silence).
    key = models.CharField(max_length=200, unique=True)
    host = models.ForeignKey(Host, null=True, blank=True, on_delete=models.SET_NULL)
    hostname = models.CharField(max_length=255, blank=True, default="")
    group = models.CharField(max_length=100, blank=True, default="")
    rule = models.CharField(max_length=64, blank=True, default="")
    product = models.CharField(max_length=64, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    digest = models.ForeignKey(Digest, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")

    class Meta:
        indexes = [
            models.Index(fields=["at"], name="alerts_event_at"),
            models.Index(fields=["digest", "at"], name="alerts_event_digest"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.hostname or self.group} at {self.at:%Y-%m-%d %H:%M}"


class Delivery(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True)
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, default=PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="alerts_delivery_due")]

    def __str__(self) -> str:
        return f"delivery of {self.digest_id} to {self.channel_id}: {self.status}"
