"""Who may read and change the collector: users (people, signing in to the dashboard) and API tokens
(scripts), each with a role and optionally scoped to groups of hosts; and the audit log of every admin
action, from the command line, the web or the API."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from clientcheck_server.fleet.models import Group

ADMIN = "admin"
VIEWER = "viewer"
ROLES = [(ADMIN, "admin: reads everything in scope and changes it"), (VIEWER, "viewer: reads")]


class User(AbstractUser):
    role = models.CharField(max_length=8, choices=ROLES, default=VIEWER)
    # Empty: every group (and hosts in none). Otherwise only hosts of these groups are visible.
    fleet_groups = models.ManyToManyField(Group, blank=True, related_name="users")
    # The zone the dashboard shows this user's dates in (an IANA name); empty: the server's time_zone.
    time_zone = models.CharField(max_length=64, blank=True, default="")
    # A user made by signing in through an OpenID Connect provider: "ISSUER SUBJECT", the provider's
    # stable id of the person (a user name there may be reused, the subject is not). Empty: a local user.
    oidc_subject = models.CharField(max_length=400, blank=True, default="")

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined,misc]  # its options kept (stubs lack it)
        constraints = [
            models.UniqueConstraint(
                fields=["oidc_subject"], condition=~models.Q(oidc_subject=""), name="accounts_user_oidc_subject"
            )
        ]

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN and self.is_active


class APIToken(models.Model):
    name = models.CharField(max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=16)  # what lists show: "cct_" and 8 characters
    key_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the token
    role = models.CharField(max_length=8, choices=ROLES, default=VIEWER)
    fleet_groups = models.ManyToManyField(Group, blank=True, related_name="tokens")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    last_used_at = models.DateTimeField(null=True, blank=True)  # at most once a minute, not per request
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.role})"


class AuditEvent(models.Model):
    """One admin action. ``actor`` is the user name, the API token's prefix, or for the command line
    ``cli:`` and the operating-system user who ran it."""

    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=150)
    via = models.CharField(max_length=8)  # "cli", "web" or "api"
    action = models.CharField(max_length=40)  # like "secret.create", "host.delete"
    target = models.CharField(max_length=300, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    address = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["action", "at"], name="accounts_audit_action")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.target}"
