"""What the collector knows about the fleet.

A host is a machine, known by the agent id its agent made once. The store keeps each host's latest report,
the current state of each (host, rule) and the history of those states as changes (ok -> due -> owed -> ok,
each stamped with the server's clock), not every report: an unchanged report only moves ``last_seen``.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from django.db import models
from django.db.models import Q

HOST_STATUSES = ("ok", "due", "unknown", "owed", "none")  # a report's summary; "none": no report yet
FINDING_STATUSES = ("ok", "owed", "due", "unsupported", "restart", "unknown")
ABSENT = "absent"  # a state change's side when the rule did not (or no longer does) apply to the host


class Group(models.Model):
    """A set of hosts an enrollment secret puts them in, and that accounts and tokens may be scoped to."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class Host(models.Model):
    agent_id = models.UUIDField(unique=True)
    hostname = models.CharField(max_length=255)
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="hosts")
    # "machine": the machine-level run (root or SYSTEM) enrolled it; "user": one user's run did, where the
    # agent is installed for that user alone (it sees only that user's installs).
    run_as = models.CharField(max_length=8, default="machine")
    platform = models.CharField(max_length=16, blank=True, default="")
    os_id = models.CharField(max_length=64, blank=True, default="")
    os_version = models.CharField(max_length=64, blank=True, default="")
    agent_version = models.CharField(max_length=32, blank=True, default="")
    boot_id = models.CharField(max_length=64, blank=True, default="")
    # The last few (hints, boot id) pairs seen with this agent id, newest last: a pair that comes back after
    # another replaced it means two machines share the agent id and key (a VM cloned after enrollment).
    identities = models.JSONField(default=list, blank=True)

    status = models.CharField(max_length=8, default="none")
    owed = models.PositiveSmallIntegerField(default=0)
    due = models.PositiveSmallIntegerField(default=0)
    unknown = models.PositiveSmallIntegerField(default=0)
    # Since when the host has owed something (status "owed"), on the server's clock; null when it does not.
    owed_since = models.DateTimeField(null=True, blank=True)
    rules_serial = models.BigIntegerField(null=True, blank=True)
    rules_stale = models.BooleanField(default=False)
    rules_fallback = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64, blank=True, default="")

    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    last_changed = models.DateTimeField(null=True, blank=True)  # when the latest changed report arrived
    stale = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    reimaged_at = models.DateTimeField(null=True, blank=True)
    # Flags for the admin: two agent ids with the same hardware hints both reporting (clones), one agent id
    # reporting from two machines (shared key), a latest report dated ahead of the server's clock or behind
    # by more than a spooled report can be (clock skew).
    clone = models.BooleanField(default=False)
    shared_key = models.BooleanField(default=False)
    clock_skew = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # The host list's filters at 100,000 hosts: each filter alone, and the common pairs.
            models.Index(fields=["status", "id"], name="fleet_host_status"),
            models.Index(fields=["group", "status", "id"], name="fleet_host_group_status"),
            models.Index(fields=["stale", "id"], name="fleet_host_stale"),
            models.Index(fields=["hostname", "id"], name="fleet_host_name"),
            models.Index(fields=["last_seen"], name="fleet_host_last_seen"),
            models.Index(fields=["archived_at"], name="fleet_host_archived"),
            models.Index(fields=["platform", "id"], name="fleet_host_platform"),
        ]

    def __str__(self) -> str:
        return f"{self.hostname} ({self.agent_id})"


class HostHint(models.Model):
    """A hash of a machine identifier the agent read (machine-id, MachineGuid, hardware UUID). Used to
    recognise a re-imaged machine and to flag clones; never to authenticate."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="hints")
    hint = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["host", "hint"], name="fleet_hint_unique")]
        indexes = [models.Index(fields=["hint"], name="fleet_hint_value")]

    def __str__(self) -> str:
        return self.hint


class LatestReport(models.Model):
    """The newest report of a host, as the agent sent it (zlib-compressed JSON: a report is ~4-8 KB of
    repetitive JSON and compresses about 4:1, on SQLite too, which does not compress by itself)."""

    host = models.OneToOneField(Host, primary_key=True, on_delete=models.CASCADE, related_name="latest")
    report_id = models.UUIDField()
    content_hash = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    generated_at = models.DateTimeField()  # the agent's claim
    # The moment used to order this host's reports: generated_at, unless the agent's clock was ahead of the
    # server's or behind it by more than a spooled report can be; then the server's receipt time.
    effective_at = models.DateTimeField()
    body = models.BinaryField()

    def __str__(self) -> str:
        return f"report {self.report_id} of host {self.host_id}"

    @staticmethod
    def pack(report: dict[str, Any]) -> bytes:
        return zlib.compress(json.dumps(report, separators=(",", ":"), ensure_ascii=False).encode(), 6)

    def report(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(zlib.decompress(bytes(self.body)))
        return document


class RuleState(models.Model):
    """The current state of one rule on one host: the worst of that rule's findings in the latest report,
    with server-side deadlines applied (a due finding past its deadline is owed here)."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="rule_states")
    rule = models.CharField(max_length=64)
    product = models.CharField(max_length=64)
    status = models.CharField(max_length=12)
    severity = models.CharField(max_length=12, default="required")
    installed = models.CharField(max_length=128, blank=True, default="")
    required = models.CharField(max_length=128, blank=True, default="")
    deadline = models.DateField(null=True, blank=True)
    since = models.DateTimeField()  # when the server learned of this status

    class Meta:
        constraints = [models.UniqueConstraint(fields=["host", "rule"], name="fleet_rulestate_unique")]
        indexes = [
            models.Index(fields=["rule", "status"], name="fleet_rulestate_rule"),
            models.Index(fields=["product", "status"], name="fleet_rulestate_product"),
            models.Index(fields=["deadline"], name="fleet_rulestate_due", condition=Q(status="due")),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on host {self.host_id}: {self.status}"


class StateChange(models.Model):
    """History: one (host, rule) moved from one status to another, at the server's time. ``old`` is
    ``absent`` for a rule the host had no finding for (its first report, a new install)."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="changes")
    rule = models.CharField(max_length=64)
    product = models.CharField(max_length=64)
    old = models.CharField(max_length=12)
    new = models.CharField(max_length=12)
    at = models.DateTimeField()
    deadline = models.DateField(null=True, blank=True)
    installed = models.CharField(max_length=128, blank=True, default="")
    required = models.CharField(max_length=128, blank=True, default="")
    # What caused it: "report" (a report changed it), "deadline" (the server's clock passed a due
    # finding's deadline), "deleted" never (a deleted host's history goes with it).
    cause = models.CharField(max_length=8, default="report")

    class Meta:
        indexes = [
            models.Index(fields=["host", "at"], name="fleet_change_host"),
            models.Index(fields=["rule", "at"], name="fleet_change_rule"),
            models.Index(fields=["at"], name="fleet_change_at"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on host {self.host_id}: {self.old} -> {self.new} at {self.at:%Y-%m-%d %H:%M:%S}"


class SeenReport(models.Model):
    """The report ids of changed reports, remembered as long as a spooled report may live
    (``report_id_retention_days``): a retry or replay of one is answered 202 and changes nothing. Unchanged
    reports (check-ins) need no memory: repeating one changes nothing anyway."""

    report_id = models.UUIDField(primary_key=True)
    host = models.ForeignKey(Host, on_delete=models.CASCADE, db_index=False)
    content_hash = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["received_at"], name="fleet_seen_received"),
            models.Index(fields=["host"], name="fleet_seen_host"),
        ]

    def __str__(self) -> str:
        return str(self.report_id)


class DailyRollup(models.Model):
    """One day's counts for one group (group null: hosts in no group), kept up to date by housekeeping;
    the dashboard's trend reads it. A day is a day in the server's configured time zone."""

    day = models.DateField()
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE)
    hosts = models.PositiveIntegerField(default=0)  # not archived
    reporting = models.PositiveIntegerField(default=0)  # not stale
    stale = models.PositiveIntegerField(default=0)
    archived = models.PositiveIntegerField(default=0)
    ok = models.PositiveIntegerField(default=0)
    due = models.PositiveIntegerField(default=0)
    owed = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    none = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(null=True, blank=True)  # when these counts were taken

    class Meta:
        indexes = [models.Index(fields=["day", "group"], name="fleet_rollup_day")]

    def __str__(self) -> str:
        return f"{self.day} group {self.group_id}: {self.owed} owed of {self.hosts}"


class RuleRollup(models.Model):
    """One day's count of hosts in each status of one rule and product, per group: the trend of a rule or a
    product, and the fleet summary's counts by rule and by product at 100,000 hosts (summing a few thousand
    rollup rows instead of millions of rule states)."""

    day = models.DateField()
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE)
    rule = models.CharField(max_length=64)
    product = models.CharField(max_length=64, default="")
    at = models.DateTimeField(null=True, blank=True)  # when these counts were taken
    ok = models.PositiveIntegerField(default=0)
    due = models.PositiveIntegerField(default=0)
    owed = models.PositiveIntegerField(default=0)
    unsupported = models.PositiveIntegerField(default=0)
    restart = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "rule"], name="fleet_rulerollup_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.rule}: {self.owed} owed"


class FleetSettings(models.Model):
    """The fleet's policy windows, one row, editable at run time (command line, later the dashboard) and
    the same for every server process."""

    stale_after_days = models.PositiveIntegerField(default=14)
    # MunkiReport's users asked for 90-120 days: school machines are off all summer.
    archive_after_days = models.PositiveIntegerField(default=120)
    # A new agent id whose hints match a host whose own agent has been silent this long is that host,
    # re-imaged; sooner, the two are clones.
    reimage_after_days = models.PositiveIntegerField(default=7)
    history_retention_days = models.PositiveIntegerField(default=400)
    # At least as long as an agent keeps a report in its spool.
    report_id_retention_days = models.PositiveIntegerField(default=30)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "fleet settings"

    @classmethod
    def current(cls) -> FleetSettings:
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings
