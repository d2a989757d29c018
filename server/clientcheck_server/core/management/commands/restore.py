"""``clientcheck-server restore FILE [--pg-bin DIR]``: put a backup in place of the store, then bring it
up to this version (a backup from an older version is migrated). Stop the servers first: they would
otherwise answer from a store that changes under them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from clientcheck_server.accounts.audit import cli_actor, record
from clientcheck_server.core import backups


class Command(BaseCommand):
    help = "Replace the database with a backup made by `clientcheck-server backup`, then migrate it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a backup made by clientcheck-server backup")
        parser.add_argument("--pg-bin", help="folder of pg_restore, when it is not on PATH")

    def handle(self, *args: Any, **options: Any) -> None:
        settings_dict = dict(connection.settings_dict)
        connection.close()
        backups.restore(settings_dict, options["file"], pg_bin=options["pg_bin"])
        call_command("migrate", interactive=False, verbosity=0)
        record("store.restore", str(options["file"]), actor=cli_actor(), via="cli")
        self.stderr.write(f"Restored {options['file']}.")
