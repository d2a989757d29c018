"""The rollback floor: the highest serial accepted from published rules, kept in the state folder.

Kept apart from the cache, so that deleting or damaging the cache does not lower it, and per publisher
rather than per spelling of an address: per the pinned key's id when there is one (one publisher, one
sequence of serials, wherever its files are served from), and per normalised address (``urls.normalised``:
``localhost:80/./r.json`` and ``localhost/r.json`` are one). A run with a key pinned answers to both, so
pinning a key after unsigned runs never lowers the floor.

With the serial, the file's SHA-256 is kept: another file with the same serial is a rollback too.
"""

from __future__ import annotations

import json
import os

from clientcheck.record import Record
from clientcheck.rules.validate import MAX_SERIAL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

    from clientcheck.rules.minisign import PublicKey

FILE_NAME = "rules-floor.json"
SCHEMA = "clientcheck.rules-floor/1"
MAX_BYTES = 1024 * 1024


class Floor(Record):
    __slots__ = ("serial", "sha256", "source", "accepted_at")

    serial: int
    sha256: str | None  # of the file accepted with that serial, when known
    source: str | None  # where it came from, for a person reading the file
    accepted_at: str | None

    def __init__(
        self, serial: int, sha256: str | None, source: str | None = None, accepted_at: str | None = None
    ) -> None:
        self._set(locals())


class DamagedFloorError(ValueError):
    """The floor file is there but cannot be read as one."""


def state_dir(env: Mapping[str, str]) -> str | None:
    """Where the floor is kept: ``CLIENTCHECK_STATE_DIR``; else, for root, the machine's state folder
    (``/var/lib/clientcheck`` on Linux); else the user's (``~/.local/state/clientcheck``). None when the
    environment names no home."""
    from clientcheck import dirs
    from clientcheck.deliver import effective_uid
    from clientcheck.platforms import this_platform

    configured = env.get("CLIENTCHECK_STATE_DIR", "").strip()
    if configured:
        return configured
    platform = this_platform()
    if effective_uid() == 0:
        return dirs.machine_state_dir(platform, env)
    return dirs.user_state_dir(platform, env)


def names(url: str, key: PublicKey | None) -> tuple[str, ...]:
    """The floors a file fetched from ``url`` answers to: its address's, and its pinned key's."""
    from clientcheck.net.urls import normalised

    address = "url:" + normalised(url)
    return (address, "key:" + key.id_text) if key is not None else (address,)


def read_floors(folder: str) -> dict[str, Floor]:
    """Every floor kept in ``folder``; empty when there are none yet. DamagedFloorError when the file
    cannot be read as floors (never taken as "no floor" without a word)."""
    path = os.path.join(folder, FILE_NAME)
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise DamagedFloorError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        document = json.loads(data) if len(data) <= MAX_BYTES else None
    except (ValueError, RecursionError):
        document = None
    floors = _floors(document)
    if floors is None:
        raise DamagedFloorError(f"{path}: not a rollback floor file")
    return floors


def _floors(document: Any) -> dict[str, Floor] | None:
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        return None
    entries = document.get("floors")
    if not isinstance(entries, dict):
        return None
    floors: dict[str, Floor] = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            return None
        serial = entry.get("serial")
        if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial <= MAX_SERIAL:
            return None
        texts = [entry.get(key) for key in ("sha256", "source", "accepted_at")]
        if not all(text is None or isinstance(text, str) for text in texts):
            return None
        floors[name] = Floor(serial, *texts)
    return floors


def highest(floors: Mapping[str, Floor], wanted: Iterable[str]) -> Floor | None:
    """The highest of the ``wanted`` floors."""
    found = [floors[name] for name in wanted if name in floors]
    return max(found, key=lambda floor: floor.serial) if found else None


def raise_floors(folder: str, wanted: Iterable[str], floor: Floor) -> bool:
    """Raise each ``wanted`` floor to ``floor`` (never lower one); True when the file changed. Read again
    just before writing, so that a run in parallel that accepted a newer file is not undone."""
    from clientcheck.deliver import write_atomic

    try:
        floors = read_floors(folder)
    except DamagedFloorError:
        floors = {}  # replaced by one that can be read; the caller has said so
    changed = False
    for name in wanted:
        current = floors.get(name)
        if current is None or current.serial < floor.serial:
            floors[name] = floor
            changed = True
    if changed:
        document = {
            "schema": SCHEMA,
            "floors": {
                name: {
                    "serial": kept.serial,
                    "sha256": kept.sha256,
                    "source": kept.source,
                    "accepted_at": kept.accepted_at,
                }
                for name, kept in sorted(floors.items())
            },
        }
        write_atomic(os.path.join(folder, FILE_NAME), json.dumps(document, indent=1) + "\n", mode=0o600)
    return changed
