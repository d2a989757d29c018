"""Locks that hold across every server process sharing one database: migrations at start, housekeeping.

PostgreSQL: a session-level advisory lock, so it holds across machines and is released by the server
when the holder's connection dies (a killed process never leaves it held). SQLite lives in one folder on
one machine: an flock on a file beside the database, released by the kernel when the holder dies.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from django.db import connection


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"clientcheck-server:{name}".encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def database_lock(name: str, *, wait: float = 0.0) -> Iterator[bool]:
    """Hold the lock ``name`` for the block. Waits up to ``wait`` seconds; yields whether it is held (the
    block runs either way and must look at the answer)."""
    deadline = time.monotonic() + wait
    if connection.vendor == "postgresql":
        key = _key(name)
        with connection.cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
                (held,) = cursor.fetchone() or (False,)
                if held or time.monotonic() >= deadline:
                    break
                time.sleep(0.1)
        try:
            yield bool(held)
        finally:
            if held:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    import fcntl

    database = str(connection.settings_dict["NAME"])
    if database == ":memory:" or "mode=memory" in database:
        yield True  # a database only this process sees (tests)
        return
    path = Path(database + f".{name}.lock")
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
            except BlockingIOError:
                held = False
            if held or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
