"""``clientcheck-server housekeeping [--every SECONDS]``: deadlines, stale and archived hosts, retention,
the daily rollup. Once by default (for a timer); ``--every`` keeps running (serve starts it so). Whatever
runs it, it runs once at a time: under a database lock, and skipped when another process ran it less than
``--every`` seconds ago."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connection
from django.utils import timezone

from clientcheck_server.core.locks import database_lock
from clientcheck_server.core.models import HousekeepingRun
from clientcheck_server.fleet import housekeeping


class Command(BaseCommand):
    help = "Pass deadlines, mark stale and archived hosts, prune history, update today's rollup."
    requires_system_checks: list[str] = []  # a quick command; serve runs the checks

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=0, help="keep running, once every so many seconds")
        parser.add_argument("--quiet", action="store_true", help="print nothing when all is well")

    def handle(self, *args: Any, **options: Any) -> None:
        every = options["every"]
        if every <= 0:
            self._once(options["quiet"], every=0)
            return
        parent = os.getppid()
        stop = False

        def _stop(signum: int, frame: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        while not stop and os.getppid() == parent:  # the server that started it is gone: so is it
            try:
                self._once(options["quiet"], every=every)
            except DatabaseError as error:
                self.stderr.write(f"housekeeping: the database failed: {error}".strip())
                connection.close()
            for _ in range(every):
                if stop or os.getppid() != parent:
                    break
                time.sleep(1)

    def _once(self, quiet: bool, *, every: int) -> None:
        with database_lock("housekeeping") as held:
            if not held:
                if not quiet:
                    self.stderr.write("housekeeping is running elsewhere: skipped")
                return
            now = timezone.now()
            if every:
                last = HousekeepingRun.objects.order_by("-started_at").values_list("started_at", flat=True).first()
                if last is not None and last > now - dt.timedelta(seconds=every * 0.9):
                    return
            summary = housekeeping.run(now)
        if not quiet:
            self.stdout.write(json.dumps(summary, sort_keys=True))
