from __future__ import annotations

from django.apps import AppConfig


class IngestConfig(AppConfig):
    """The report endpoint: thin and fast. Authenticates a host key, checks the envelope and the report,
    and applies a changed report to the store in one transaction."""

    name = "clientcheck_server.ingest"
    label = "ingest"
    verbose_name = "Ingest"
