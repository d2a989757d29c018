"""``clientcheck-server``: thin wrappers over the management commands of the apps.

``--data DIR`` and ``--database URL`` are taken here, anywhere on the line, and handed on as
CLIENTCHECK_SERVER_DATA and CLIENTCHECK_SERVER_DATABASE before Django reads its settings (once). The rest
is Django's command line, so ``clientcheck-server COMMAND --help`` shows each command's options.

Exit status: 0 done; 1 the command failed (its message says why); 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import os
import sys

from clientcheck_server import __version__, conf

COMMANDS = {
    "serve": "run the server: make the data folder, migrate, listen (127.0.0.1:8765)",
    "secret": "enrollment secrets: create [--group G] | list | revoke SECRET",
    "token": "API tokens: create [--role viewer|admin] [--group G] | list | revoke TOKEN",
    "admin": "dashboard users: create NAME [--password-file F] [--role admin|viewer] | list",
    "host": "hosts: list [filters] | delete HOST | archive HOST",
    "housekeeping": "pass deadlines, mark stale/archived hosts, prune, update the daily rollup",
    "settings": "the fleet's windows: show | set NAME DAYS",
    "migrate": "bring the database up to this version (serve does it at every start)",
    "backup": "backup FILE: a consistent copy of the database while the server runs",
    "restore": "restore FILE: replace the database with a backup (servers stopped)",
}

USAGE = """usage: clientcheck-server [--data DIR] [--database URL] COMMAND [ARGS]

The fleet collector for clientcheck. Commands:
{commands}

--data DIR       the data folder: server.toml, the SQLite database (env CLIENTCHECK_SERVER_DATA;
                 default {default})
--database URL   postgresql://USER@HOST/NAME instead of SQLite (env CLIENTCHECK_SERVER_DATABASE)

clientcheck-server COMMAND --help shows a command's options. Django's own commands (dbshell, shell,
showmigrations...) work too. Documentation: docs/server.md.
"""


def _usage() -> str:
    width = max(map(len, COMMANDS))
    commands = "\n".join(f"  {name.ljust(width)}  {text}" for name, text in COMMANDS.items())
    return USAGE.format(commands=commands, default=conf.default_data_dir())


def _tls_for_settings(args: list[str]) -> None:
    """serve's --certfile and --keyfile, for the settings too (read before the command runs): a server
    speaking HTTPS sends its session and CSRF cookies as Secure, whether TLS was asked for here or in
    server.toml."""
    tls = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    tls.add_argument("--certfile")
    tls.add_argument("--keyfile")
    known, _ = tls.parse_known_args(args)
    if known.certfile:
        os.environ[conf.CERTFILE_ENV] = known.certfile
    if known.keyfile:
        os.environ[conf.KEYFILE_ENV] = known.keyfile


def entry(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.umask(0o077)  # the database, backups and lock files are the server's alone
    front = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    front.add_argument("--data")
    front.add_argument("--database")
    try:
        known, rest = front.parse_known_args(argv)
    except SystemExit as error:  # argparse's own message was printed
        return int(error.code or 2)
    if not rest or rest[0] in ("-h", "--help", "help"):
        sys.stdout.write(_usage())
        return 0
    if rest[0] == "--version":
        sys.stdout.write(f"clientcheck-server {__version__}\n")
        return 0
    if known.data is not None:
        os.environ[conf.DATA_ENV] = os.path.abspath(known.data)
    if known.database is not None:
        os.environ[conf.DATABASE_ENV] = known.database
    os.environ["DJANGO_SETTINGS_MODULE"] = "clientcheck_server.settings"
    command = rest[0]
    if command == "serve":
        _tls_for_settings(rest[1:])
    try:
        config = conf.load()
        if command == "serve":
            from clientcheck_server.serving.metrics import prepare

            conf.prepare_data_dir(config.data)
            prepare(config.data)  # before anything imports prometheus_client
        elif command in ("migrate", "restore"):
            conf.prepare_data_dir(config.data)
        elif command in COMMANDS and not config.database and not (config.data / conf.SQLITE_NAME).exists():
            sys.stderr.write(
                f"clientcheck-server: no database in {config.data}: start the server there first "
                f"(clientcheck-server serve --data {config.data}) or give --database URL\n"
            )
            return 2
    except conf.ConfigError as error:
        sys.stderr.write(f"clientcheck-server: {error}\n")
        return 2
    except OSError as error:
        sys.stderr.write(f"clientcheck-server: {error.filename}: {error.strerror}\n")
        return 2
    import django
    from django.core.management import execute_from_command_line

    try:
        django.setup()
    except conf.ConfigError as error:
        sys.stderr.write(f"clientcheck-server: {error}\n")
        return 2
    try:
        execute_from_command_line(["clientcheck-server", *rest])
    except SystemExit as error:
        return error.code if isinstance(error.code, int) else (0 if error.code is None else 1)
    except KeyboardInterrupt:
        return 130
    return 0
