"""``clientcheck-server token create [--role viewer|admin] [--group G]… [--name N] [--expires-days D]
| list [--json] | revoke TOKEN``"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from clientcheck_server.accounts.audit import cli_actor, record
from clientcheck_server.accounts.models import ADMIN, VIEWER, APIToken
from clientcheck_server.core import credentials, tables
from clientcheck_server.fleet.groups import group_named


def find(value: str) -> APIToken:
    if credentials.well_formed(value, credentials.API_TOKEN):
        found = APIToken.objects.filter(key_hash=credentials.digest(value)).first()
        if found is None:
            raise CommandError("no such API token")
        return found
    matches = list(APIToken.objects.filter(prefix=value))
    if not matches:
        raise CommandError(f"no API token {value!r} (see: clientcheck-server token list)")
    if len(matches) > 1:
        raise CommandError(f"{value!r} names {len(matches)} tokens: give the whole token")
    return matches[0]


class Command(BaseCommand):
    help = "API tokens: create one (printed once, alone on stdout), list them, revoke one."
    requires_system_checks: list[str] = []  # a quick command; serve runs the checks

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="make a token and print it (it is shown only this once)")
        create.add_argument("--role", choices=[VIEWER, ADMIN], default=VIEWER, help="viewer (default) reads")
        create.add_argument(
            "--group", action="append", default=[], help="see only hosts of this group (repeat for more)"
        )
        create.add_argument("--name", default="", help="a note to tell tokens apart")
        create.add_argument("--expires-days", type=int, default=0, help="expire after so many days (0: never)")
        listing = actions.add_parser("list", help="list the tokens (never their values)")
        listing.add_argument("--json", action="store_true", help="as JSON")
        revoke = actions.add_parser("revoke", help="revoke a token")
        revoke.add_argument("token", help="the prefix `token list` shows (cct_XXXXXXXX), or the token itself")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options: dict[str, Any]) -> None:
        if options["expires_days"] < 0:
            raise CommandError("--expires-days must not be negative")
        value = credentials.new(credentials.API_TOKEN)
        actor = cli_actor()
        now = timezone.now()
        with transaction.atomic():
            groups = [group_named(name, actor=actor, via="cli") for name in options["group"]]
            token = APIToken.objects.create(
                name=options["name"],
                prefix=credentials.prefix(value),
                key_hash=credentials.digest(value),
                role=options["role"],
                created_at=now,
                created_by=actor,
                expires_at=now + dt.timedelta(days=options["expires_days"]) if options["expires_days"] else None,
            )
            token.fleet_groups.set(groups)
            record(
                "token.create",
                token.prefix,
                actor=actor,
                via="cli",
                role=token.role,
                groups=[group.name for group in groups],
            )
        self.stdout.write(value)
        scope = f" for group(s) {', '.join(g.name for g in groups)}" if groups else ""
        self.stderr.write(f"API token {token.prefix}… ({token.role}{scope}) made. It is shown only now.")

    def _list(self, options: dict[str, Any]) -> None:
        tokens = APIToken.objects.prefetch_related("fleet_groups").order_by("created_at")
        items: list[dict[str, Any]] = [
            {
                "prefix": t.prefix,
                "name": t.name,
                "role": t.role,
                "groups": [g.name for g in t.fleet_groups.all()],
                "created_at": t.created_at,
                "created_by": t.created_by,
                "last_used_at": t.last_used_at,
                "expires_at": t.expires_at,
                "revoked_at": t.revoked_at,
            }
            for t in tokens
        ]
        if options["json"]:
            tables.write_json(self.stdout, items)
            return
        tables.write(
            self.stdout,
            ["TOKEN", "NAME", "ROLE", "GROUPS", "CREATED", "BY", "LAST USED", "EXPIRES", "STATE"],
            [
                [
                    f"{i['prefix']}…",
                    i["name"],
                    i["role"],
                    ",".join(i["groups"]) or "all",
                    tables.when(i["created_at"]),
                    i["created_by"],
                    tables.when(i["last_used_at"]),
                    tables.when(i["expires_at"]),
                    f"revoked {tables.when(i['revoked_at'])}" if i["revoked_at"] else "live",
                ]
                for i in items
            ],
        )

    def _revoke(self, options: dict[str, Any]) -> None:
        actor = cli_actor()
        with transaction.atomic():
            token = find(options["token"])
            if token.revoked_at is not None:
                self.stderr.write(f"{token.prefix}… was already revoked on {tables.when(token.revoked_at)}")
                return
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record("token.revoke", token.prefix, actor=actor, via="cli")
        self.stderr.write(f"Revoked {token.prefix}….")
