"""Backups of the store. SQLite: the online backup API (a consistent copy while the server writes).
PostgreSQL: pg_dump's custom format, restored with pg_restore. The password goes to the tools through
the environment (PGPASSWORD), never on their command line."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.core.management.base import CommandError


def _tool(name: str, pg_bin: str | None) -> str:
    if pg_bin:
        path = Path(pg_bin) / name
        if not os.access(path, os.X_OK):
            raise CommandError(f"{path}: not found or not executable")
        return str(path)
    found = shutil.which(name)
    if found is None:
        raise CommandError(f"{name} is not on PATH: install PostgreSQL's client programs or give --pg-bin DIR")
    return found


def _libpq(database: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A connection URI without the password, and the environment that carries it."""
    user = quote(database["USER"], safe="") + "@" if database["USER"] else ""
    host = database["HOST"] if not database["HOST"].startswith("/") else ""
    port = f":{database['PORT']}" if database["PORT"] else ""
    query = dict(database["OPTIONS"])
    if database["HOST"].startswith("/"):
        query["host"] = database["HOST"]
    params = "&".join(f"{quote(str(k))}={quote(str(v), safe='/')}" for k, v in query.items())
    uri = f"postgresql://{user}{quote(host, safe='')}{port}/{quote(database['NAME'], safe='')}"
    env = dict(os.environ)
    if database["PASSWORD"]:
        env["PGPASSWORD"] = database["PASSWORD"]
    return uri + (f"?{params}" if params else ""), env


def _owner_only(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def backup(database: dict[str, Any], target: Path, *, pg_bin: str | None = None) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        if database["ENGINE"].endswith("sqlite3"):
            os.close(_owner_only(temporary))
            source = sqlite3.connect(f"file:{database['NAME']}?mode=ro", uri=True)
            copy = sqlite3.connect(temporary)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
        else:
            uri, env = _libpq(database)
            os.close(_owner_only(temporary))
            command = [_tool("pg_dump", pg_bin), "--format=custom", "--no-owner", f"--file={temporary}", uri]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise CommandError(f"pg_dump failed: {done.stderr.strip()}")
        with open(temporary, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def restore(database: dict[str, Any], source: Path, *, pg_bin: str | None = None) -> None:
    if not source.is_file():
        raise CommandError(f"{source}: no such file")
    if database["ENGINE"].endswith("sqlite3"):
        try:
            backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            backup_db.execute("SELECT count(*) FROM django_migrations").fetchone()
        except sqlite3.DatabaseError as error:
            raise CommandError(f"{source}: not a clientcheck-server SQLite backup ({error})") from None
        target = sqlite3.connect(database["NAME"])
        try:
            backup_db.backup(target)  # page by page, under SQLite's own locks: safe while others read
        finally:
            target.close()
            backup_db.close()
        return
    uri, env = _libpq(database)
    command = [
        _tool("pg_restore", pg_bin),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        f"--dbname={uri}",
        str(source),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CommandError(f"pg_restore failed: {done.stderr.strip()}")
