"""``clientcheck-server backup FILE [--pg-bin DIR]``: a consistent copy of the store, while it serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from clientcheck_server.core import backups


class Command(BaseCommand):
    help = "Copy the database to FILE while the server runs (SQLite's online backup, or pg_dump -Fc)."
    requires_system_checks: list[str] = []  # a quick command; serve runs the checks

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the backup to write (owner-only; must not exist)")
        parser.add_argument("--pg-bin", help="folder of pg_dump, when it is not on PATH")

    def handle(self, *args: Any, **options: Any) -> None:
        target: Path = options["file"]
        if target.exists():
            raise CommandError(f"{target}: exists already (a backup never overwrites one)")
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent}: no such folder")
        backups.backup(connection.settings_dict, target, pg_bin=options["pg_bin"])
        self.stderr.write(f"Backed up to {target} ({target.stat().st_size} bytes).")
