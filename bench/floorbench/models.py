from __future__ import annotations

from django.db import models


class FloorReport(models.Model):
    """One body the floor endpoint took, as it came (no validation, no compression)."""

    report_id = models.UUIDField()
    agent_id = models.UUIDField()
    received_at = models.DateTimeField()
    body = models.TextField()

    def __str__(self) -> str:
        return str(self.report_id)
