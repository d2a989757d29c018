"""``clientcheck-server host list [filters] [--json] | delete HOST | archive HOST``

HOST is a host id, an agent id, or a host name that only one host has.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from clientcheck_server.accounts.audit import cli_actor, record
from clientcheck_server.core import tables
from clientcheck_server.fleet import removal
from clientcheck_server.fleet.api import serializers
from clientcheck_server.fleet.filtersets import FilterError, filter_hosts
from clientcheck_server.fleet.models import Host


def find(value: str) -> Host:
    if value.isdigit():
        found = Host.objects.filter(pk=int(value)).first()
    else:
        try:
            found = Host.objects.filter(agent_id=uuid.UUID(value)).first()
        except ValueError:
            matches = list(Host.objects.filter(hostname=value)[:2])
            if len(matches) > 1:
                raise CommandError(f"several hosts are called {value!r}: give the host id") from None
            found = matches[0] if matches else None
    if found is None:
        raise CommandError(f"no host {value!r} (see: clientcheck-server host list)")
    return found


class Command(BaseCommand):
    help = "Hosts: list them (with the API's filters), delete one (its agent is told it was revoked), archive one."
    requires_system_checks: list[str] = []  # a quick command; serve runs the checks

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="list hosts, oldest enrolled first")
        for name in (
            "status",
            "rule",
            "product",
            "rule_status",
            "group",
            "platform",
            "stale",
            "archived",
            "flag",
            "search",
        ):
            listing.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"filter: {name} (as the API)")
        listing.add_argument("--json", action="store_true", help="as JSON (the API's fields)")
        delete = actions.add_parser("delete", help="remove a host and its history; its key is revoked")
        delete.add_argument("host", help="host id, agent id, or a host name only one host has")
        archive = actions.add_parser("archive", help="archive a host (it comes back when it reports again)")
        archive.add_argument("host", help="host id, agent id, or a host name only one host has")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _list(self, options: dict[str, Any]) -> None:
        params = {
            key: options[key]
            for key in (
                "status",
                "rule",
                "product",
                "rule_status",
                "group",
                "platform",
                "stale",
                "archived",
                "flag",
                "search",
            )
            if options[key] is not None
        }
        try:
            hosts = filter_hosts(Host.objects.select_related("group"), params).order_by("pk")
        except FilterError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            tables.write_json(self.stdout, [serializers.host(h) for h in hosts.iterator(chunk_size=2000)])
            return
        tables.write(
            self.stdout,
            ["ID", "HOST", "GROUP", "STATUS", "OWED", "DUE", "PLATFORM", "LAST SEEN", "STATE"],
            [
                [
                    h.pk,
                    h.hostname,
                    h.group.name if h.group else None,
                    h.status,
                    h.owed,
                    h.due,
                    h.platform,
                    tables.when(h.last_seen),
                    "archived" if h.archived_at else "stale" if h.stale else "reporting",
                ]
                for h in hosts.iterator(chunk_size=2000)
            ],
        )

    def _delete(self, options: dict[str, Any]) -> None:
        with transaction.atomic():
            host = find(options["host"])
            name = host.hostname
            removal.delete_host(host, actor=cli_actor(), via="cli")
        self.stderr.write(f"Deleted {name!r}: its key is revoked; its agent is told so and stops shipping.")

    def _archive(self, options: dict[str, Any]) -> None:
        with transaction.atomic():
            host = find(options["host"])
            host.archived_at = timezone.now()
            host.save(update_fields=["archived_at"])
            record("host.archive", f"{host.hostname} ({host.agent_id})", actor=cli_actor(), via="cli")
        self.stderr.write(f"Archived {host.hostname!r}; it comes back when it reports again.")
