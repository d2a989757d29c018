"""One agent id on two machines: a VM cloned after enrollment carries the agent id and host key along.

Each report names the machine it ran on by its hints (hashes of machine identifiers) and its boot id. A
host remembers the last few (hints, boot id) pairs it reported from. A new pair replacing the current one
is normal (a reboot, new hardware); an older pair coming back after another replaced it means two machines
take turns with one key. The server flags the host (``shared_key``) and asks the machine that came back to
make a new agent id and enroll again (401 reenroll, reset_agent_id); the other keeps the host. That
machine then enrolls as a new host with the same hints as this one, so both are flagged as clones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from clientcheck_server.fleet.models import Host
from clientcheck_server.ingest.envelope import Envelope
from clientcheck_server.ingest.store import replace_hints

SAME = "same"
MOVED = "moved"
CLONED = "cloned"
REMEMBERED = 4


def _matches(entry: dict[str, Any], hints: list[str], boot: str) -> bool:
    return entry.get("hints") == hints and entry.get("boot", "") == boot


def check_identity(host_id: int, known: list[dict[str, Any]], envelope: Envelope, now: dt.datetime) -> str:
    """SAME (nothing to do), MOVED (recorded) or CLONED (flagged: the caller answers reenroll)."""
    identities: list[dict[str, Any]] = list(known or [])
    hints, boot = envelope.hints, envelope.boot_id
    if identities and _matches(identities[-1], hints, boot) and not identities[-1].get("rejected"):
        return SAME  # the everyday case: nothing to write
    for entry in identities:
        if _matches(entry, hints, boot):
            if not entry.get("rejected"):
                entry["rejected"] = True
            with transaction.atomic():
                Host.objects.filter(pk=host_id).update(shared_key=True, identities=identities)
            return CLONED
    identities.append({"hints": hints, "boot": boot, "at": now.isoformat(timespec="seconds")})
    rejected = [entry for entry in identities if entry.get("rejected")]
    kept = [entry for entry in identities if not entry.get("rejected")][-REMEMBERED:]
    identities = rejected[-REMEMBERED:] + kept
    with transaction.atomic():
        Host.objects.filter(pk=host_id).update(identities=identities, boot_id=boot)
        if not identities[:-1] or hints != _last_hints(identities[:-1]):
            replace_hints(host_id, hints)
    return MOVED


def _last_hints(entries: list[dict[str, Any]]) -> list[str] | None:
    for entry in reversed(entries):
        if not entry.get("rejected"):
            hints: list[str] = entry.get("hints", [])
            return hints
    return None
