"""``clientcheck-server secret create [--group G] [--name N] | list [--json] | revoke SECRET``"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from clientcheck_server.accounts.audit import cli_actor, record
from clientcheck_server.core import credentials, tables
from clientcheck_server.enrollment.models import EnrollmentSecret
from clientcheck_server.fleet.groups import group_named


def find(value: str) -> EnrollmentSecret:
    """A secret by its prefix as lists show it (ccs_ and 8 characters) or by the whole secret."""
    if credentials.well_formed(value, credentials.SECRET):
        found = EnrollmentSecret.objects.filter(key_hash=credentials.digest(value)).first()
        if found is None:
            raise CommandError("no such enrollment secret")
        return found
    matches = list(EnrollmentSecret.objects.filter(prefix=value))
    if not matches:
        raise CommandError(f"no enrollment secret {value!r} (see: clientcheck-server secret list)")
    if len(matches) > 1:
        raise CommandError(f"{value!r} names {len(matches)} secrets: give the whole secret")
    return matches[0]


class Command(BaseCommand):
    help = "Enrollment secrets: create one (printed once, alone on stdout), list them, revoke one."
    requires_system_checks: list[str] = []  # a quick command; serve runs the checks

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="make a secret and print it (it is shown only this once)")
        create.add_argument("--group", help="hosts enrolled with this secret join this group (made if new)")
        create.add_argument("--name", default="", help="a note to tell secrets apart")
        listing = actions.add_parser("list", help="list the secrets (never their values)")
        listing.add_argument("--json", action="store_true", help="as JSON")
        revoke = actions.add_parser("revoke", help="stop new enrollments with a secret; enrolled hosts stay")
        revoke.add_argument("secret", help="the prefix `secret list` shows (ccs_XXXXXXXX), or the secret itself")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options: dict[str, Any]) -> None:
        value = credentials.new(credentials.SECRET)
        actor = cli_actor()
        with transaction.atomic():
            group = group_named(options["group"], actor=actor, via="cli") if options["group"] else None
            secret = EnrollmentSecret.objects.create(
                name=options["name"],
                prefix=credentials.prefix(value),
                key_hash=credentials.digest(value),
                group=group,
                created_at=timezone.now(),
                created_by=actor,
            )
            record("secret.create", secret.prefix, actor=actor, via="cli", group=group.name if group else None)
        self.stdout.write(value)
        where = f" into group {group.name!r}" if group else ""
        self.stderr.write(
            f"Enrollment secret {secret.prefix}… made: it enrolls hosts{where}. It is shown only now; "
            "give it to agents in a file (clientcheck enroll URL --secret-file F), never on a command line."
        )

    def _list(self, options: dict[str, Any]) -> None:
        secrets = EnrollmentSecret.objects.select_related("group").order_by("created_at")
        items: list[dict[str, Any]] = [
            {
                "prefix": s.prefix,
                "name": s.name,
                "group": s.group.name if s.group else None,
                "created_at": s.created_at,
                "created_by": s.created_by,
                "last_used_at": s.last_used_at,
                "enrollments": s.enrollments,
                "revoked_at": s.revoked_at,
            }
            for s in secrets
        ]
        if options["json"]:
            tables.write_json(self.stdout, items)
            return
        tables.write(
            self.stdout,
            ["SECRET", "NAME", "GROUP", "CREATED", "BY", "LAST USED", "ENROLLED", "STATE"],
            [
                [
                    f"{i['prefix']}…",
                    i["name"],
                    i["group"],
                    tables.when(i["created_at"]),
                    i["created_by"],
                    tables.when(i["last_used_at"]),
                    i["enrollments"],
                    f"revoked {tables.when(i['revoked_at'])}" if i["revoked_at"] else "live",
                ]
                for i in items
            ],
        )

    def _revoke(self, options: dict[str, Any]) -> None:
        actor = cli_actor()
        with transaction.atomic():
            secret = find(options["secret"])
            if secret.revoked_at is not None:
                self.stderr.write(f"{secret.prefix}… was already revoked on {tables.when(secret.revoked_at)}")
                return
            secret.revoked_at = timezone.now()
            secret.save(update_fields=["revoked_at"])
            record("secret.revoke", secret.prefix, actor=actor, via="cli")
        self.stderr.write(f"Revoked {secret.prefix}…: no new enrollments with it; enrolled hosts keep their keys.")
