"""``clientcheck-server admin create NAME [--password-file F] [--role admin|viewer] [--group G]… | list``

The password comes from a file (``-`` for standard input; its first line), or is asked twice on a
terminal: never from the command line, where ``ps`` would show it.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from clientcheck_server.accounts.audit import cli_actor, record
from clientcheck_server.accounts.models import ADMIN, VIEWER, User
from clientcheck_server.core import tables
from clientcheck_server.fleet.groups import group_named


def read_password(source: str | None) -> str:
    if source is None:
        if not sys.stdin.isatty():
            raise CommandError("no terminal to ask for the password: give --password-file F (or - for stdin)")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            raise CommandError("the two passwords differ")
        return first
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"{source}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{source}: not UTF-8 text") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise CommandError(f"{source}: the first line (the password) is empty")
    return lines[0]


class Command(BaseCommand):
    help = "Users of the dashboard: create one (an admin by default), list them."
    requires_system_checks: list[str] = []  # a quick command; serve runs the checks

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="make a user (an admin unless --role viewer)")
        create.add_argument("name", help="the user name to sign in with")
        create.add_argument("--password-file", help="read the password from this file's first line (- for stdin)")
        create.add_argument("--role", choices=[ADMIN, VIEWER], default=ADMIN)
        create.add_argument("--group", action="append", default=[], help="see only this group's hosts (repeat)")
        create.add_argument("--email", default="")
        listing = actions.add_parser("list", help="list the users")
        listing.add_argument("--json", action="store_true", help="as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options: dict[str, Any]) -> None:
        name = options["name"]
        if not name or len(name) > 150 or not name.isprintable() or any(c.isspace() for c in name):
            raise CommandError(f"{name!r} is not a user name (1 to 150 printable characters, no spaces)")
        if User.objects.filter(username=name).exists():
            raise CommandError(f"a user {name!r} exists already")
        password = read_password(options["password_file"])
        candidate = User(username=name, email=options["email"], role=options["role"])
        try:
            validate_password(password, candidate)
        except ValidationError as error:
            raise CommandError("the password is refused: " + " ".join(error.messages)) from None
        actor = cli_actor()
        with transaction.atomic():
            candidate.set_password(password)
            candidate.save()
            groups = [group_named(group, actor=actor, via="cli") for group in options["group"]]
            candidate.fleet_groups.set(groups)
            record("user.create", name, actor=actor, via="cli", role=candidate.role, groups=[g.name for g in groups])
        self.stderr.write(f"User {name!r} ({candidate.role}) made.")

    def _list(self, options: dict[str, Any]) -> None:
        users = User.objects.prefetch_related("fleet_groups").order_by("username")
        items: list[dict[str, Any]] = [
            {
                "name": u.username,
                "role": u.role,
                "groups": [g.name for g in u.fleet_groups.all()],
                "active": u.is_active,
                "last_login": u.last_login,
                "joined": u.date_joined,
            }
            for u in users
        ]
        if options["json"]:
            tables.write_json(self.stdout, items)
            return
        tables.write(
            self.stdout,
            ["USER", "ROLE", "GROUPS", "ACTIVE", "LAST SIGN-IN", "MADE"],
            [
                [
                    i["name"],
                    i["role"],
                    ",".join(i["groups"]) or "all",
                    i["active"],
                    tables.when(i["last_login"]),
                    tables.when(i["joined"]),
                ]
                for i in items
            ],
        )
