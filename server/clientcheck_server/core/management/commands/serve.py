"""``clientcheck-server serve [--bind HOST:PORT] [--certfile F --keyfile F] [--workers N] [--no-housekeeping]``

Makes the data folder (clientcheck-server's command line did, before settings were read), migrates under
the migration lock, makes a first enrollment secret when there has never been one, and runs the server.
"""

from __future__ import annotations

import ipaddress
import os
import resource
import socket
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, transaction
from django.utils import timezone

from clientcheck_server import __version__, conf
from clientcheck_server.accounts.audit import record
from clientcheck_server.core import credentials
from clientcheck_server.core.locks import database_lock
from clientcheck_server.enrollment.models import EnrollmentSecret


def parse_bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--bind {value!r}: write HOST:PORT, like 127.0.0.1:8765 or [::1]:8765")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def url_of(host: str, port: int, tls: bool) -> str:
    scheme = "https" if tls else "http"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"{scheme}://{host}:{port}"
    if address.is_unspecified:
        return f"{scheme}://{socket.getfqdn()}:{port}"
    return f"{scheme}://[{host}]:{port}" if address.version == 6 else f"{scheme}://{host}:{port}"


def _first_secret() -> str | None:
    """A first enrollment secret, only when the server has never had one (a secret is shown only once)."""
    with database_lock("first-start", wait=60), transaction.atomic():
        if EnrollmentSecret.objects.exists():
            return None
        value = credentials.new(credentials.SECRET)
        secret = EnrollmentSecret.objects.create(
            name="first",
            prefix=credentials.prefix(value),
            key_hash=credentials.digest(value),
            created_at=timezone.now(),
            created_by="serve",
        )
        record("secret.create", secret.prefix, actor="serve", via="cli", first=True)
        return value


def _more_files() -> None:
    """Each connection is a file descriptor: take the hard limit, not the usual 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1 << 20), hard))
        except (ValueError, OSError):
            pass


class Command(BaseCommand):
    help = "Run the collector: migrate, then serve the API with gunicorn and asyncio workers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", help="HOST:PORT to listen on (default 127.0.0.1:8765, or bind in server.toml)")
        parser.add_argument("--certfile", help="serve HTTPS with this PEM certificate (chain)")
        parser.add_argument("--keyfile", help="the certificate's PEM private key")
        parser.add_argument("--workers", type=int, help="worker processes (default: two per CPU)")
        parser.add_argument(
            "--no-housekeeping", action="store_true", help="do not run housekeeping here (a timer runs it)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        config = settings.CONFIG
        if not config.secret_key:
            raise CommandError(f"no secret_key in {config.config_file} (or {conf.SECRET_KEY_ENV})")
        host, port = parse_bind(options["bind"] or config.bind)
        certfile = options["certfile"] or config.certfile
        keyfile = options["keyfile"] or config.keyfile
        if bool(certfile) != bool(keyfile):
            raise CommandError("give both --certfile and --keyfile, or neither")
        for name in (certfile, keyfile):
            if name and not os.access(name, os.R_OK):
                raise CommandError(f"{name}: cannot be read")
        if options["workers"] is not None and options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        changes = {}
        if options["workers"]:
            changes["workers"] = options["workers"]
        if options["no_housekeeping"]:
            changes["housekeeping_interval"] = 0
        if changes:
            from dataclasses import replace

            config = replace(config, **changes)
        call_command("migrate", interactive=False, verbosity=0)
        secret = _first_secret()
        connections.close_all()  # nothing open may be shared with the forked workers
        url = url_of(host, port, bool(certfile))
        data_flag = f" --data {config.data}" if os.environ.get(conf.DATA_ENV) else ""
        lines = [
            f"clientcheck-server {__version__} listening on {url}/",
            f"  data: {config.data}",
            f"  database: {conf.redacted_database(config)}",
        ]
        if secret:
            lines += [
                "First enrollment secret (shown only now; `clientcheck-server secret create` makes more):",
                f"  {secret}",
                f"  enroll a machine: clientcheck enroll {url} --secret-file FILE",
            ]
        lines.append(f"Make the first admin: clientcheck-server admin create NAME{data_flag}")
        banner = "\n".join(lines)

        from clientcheck_server.serving import app

        _more_files()
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        app.run(
            config,
            bind=bind,
            certfile=certfile,
            keyfile=keyfile,
            metrics_dir=Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]),
            banner=lambda: (sys.stdout.write(banner + "\n"), sys.stdout.flush()),
        )
