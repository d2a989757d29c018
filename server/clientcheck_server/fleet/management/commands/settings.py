"""``clientcheck-server settings show [--json] | set NAME DAYS``: the fleet's windows, in the database so
every server process uses the same."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from clientcheck_server.accounts.audit import cli_actor, record
from clientcheck_server.core import tables
from clientcheck_server.fleet.models import FleetSettings

NAMES = {
    "stale_after_days": "a host silent this long is stale",
    "archive_after_days": "a host silent this long is archived (it comes back when it reports)",
    "reimage_after_days": "a new agent id with a silent host's hints after this long is that host, re-imaged",
    "history_retention_days": "state changes and rollups older than this are pruned",
    "report_id_retention_days": "report ids are remembered this long (at least an agent's spool age)",
}


class Command(BaseCommand):
    help = "The fleet's windows: stale and archive, re-image, history and report-id retention (days)."
    requires_system_checks: list[str] = []  # a quick command; serve runs the checks

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        show = actions.add_parser("show", help="print the settings")
        show.add_argument("--json", action="store_true", help="as JSON")
        change = actions.add_parser("set", help="change one setting")
        change.add_argument("name", choices=sorted(NAMES))
        change.add_argument("days", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        fleet = FleetSettings.current()
        if options["action"] == "show":
            items = [{"name": name, "days": getattr(fleet, name), "meaning": text} for name, text in NAMES.items()]
            if options["json"]:
                tables.write_json(self.stdout, items)
            else:
                tables.write(self.stdout, ["SETTING", "DAYS", "MEANING"], [list(i.values()) for i in items])
            return
        name, days = options["name"], options["days"]
        if days < 1:
            raise CommandError(f"{name} must be at least 1 day")
        with transaction.atomic():
            fleet = FleetSettings.objects.select_for_update().get(pk=fleet.pk)
            old = getattr(fleet, name)
            setattr(fleet, name, days)
            if fleet.archive_after_days < fleet.stale_after_days:
                raise CommandError("archive_after_days must not be shorter than stale_after_days")
            fleet.updated_at = timezone.now()
            fleet.save()
            record("settings.change", name, actor=cli_actor(), via="cli", old=old, new=days)
        self.stderr.write(f"{name}: {old} -> {days} days")
