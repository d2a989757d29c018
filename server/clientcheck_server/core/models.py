from __future__ import annotations

from django.db import models


class RateCounter(models.Model):
    """A fixed-window counter shared by every server process (never a process's memory): requests per host
    key, failed enrollments per client address. Written with one upsert (core.ratelimit)."""

    key = models.CharField(max_length=200, primary_key=True)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["window_start"], name="core_rate_window")]

    def __str__(self) -> str:
        return f"{self.key}: {self.count} since {self.window_start:%Y-%m-%d %H:%M:%S}"


class HousekeepingRun(models.Model):
    """One run of the housekeeping: when, and what it did (counts by step)."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True)
    summary = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"housekeeping at {self.started_at:%Y-%m-%d %H:%M:%S}"
