"""Django's migrate, under the database's migration lock: several servers starting together against one
database migrate once, one after the other (the later ones find nothing to do)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrate

from clientcheck_server.core.locks import database_lock

WAIT = 900.0


class Command(DjangoMigrate):
    help = "Bring the database up to this version of clientcheck-server (serve does it at every start)."

    def handle(self, *args: Any, **options: Any) -> None:
        with database_lock("migrate", wait=WAIT) as held:
            if not held:
                raise CommandError(f"another process has held the migration lock for {WAIT:g} s: is one stuck?")
            super().handle(*args, **options)
