from __future__ import annotations

from django.db import models

from clientcheck_server.fleet.models import Group, Host


class EnrollmentSecret(models.Model):
    """A shared secret that buys host keys. Several live at once (rotation); revoking one stops new
    enrollments with it and touches no enrolled host."""

    name = models.CharField(max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="secrets")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    enrollments = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}…"


# Why a key no longer works, and so what its agent is told: "replaced" and "clone" mean enroll again
# (401 reenroll; "clone" also asks for a new agent id), "deleted" means the admin removed the host
# (401 revoked: the agent stops and does not enroll again by itself).
REPLACED = "replaced"
CLONE = "clone"
DELETED = "deleted"


class HostKey(models.Model):
    """A host's key, stored as its SHA-256. A host has one live key; older keys stay (revoked) so their
    agents get a precise answer instead of "unknown key"."""

    key_hash = models.CharField(max_length=64, unique=True)
    host = models.ForeignKey(Host, null=True, blank=True, on_delete=models.SET_NULL, related_name="keys")
    agent_id = models.UUIDField()
    created_at = models.DateTimeField()
    secret = models.ForeignKey(EnrollmentSecret, null=True, blank=True, on_delete=models.SET_NULL)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=8, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["host"], name="enrollment_key_host")]

    def __str__(self) -> str:
        return f"key of {self.agent_id}"
