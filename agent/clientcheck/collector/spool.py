"""The spool: the reports judged on this machine that the collector has not yet acknowledged, oldest first.

One file per report, ``<sequence>-<spooled>-<report id>-<content hash>.json`` (``spooled``: when, in seconds since
the epoch by this machine's clock), written atomically and owner-only by the
check that judged it (``deliver.write_atomic``: the two fsyncs that make it survive a crash, file and
folder, and nothing else), and removed by the shipper only on a ``202`` for it, or a permanent refusal
(``413``/``422``). The sequence, not a clock, orders the spool: an agent whose clock jumps keeps its order.
A file holds the report as the check wrote it, with its id, its content hash and when it was spooled:

    {"spool": "clientcheck.spool/1", "report_id": "…", "content_hash": "…", "spooled_at": "…Z", "report": {…}}

Bounded, as docs/collector-protocol.md asks, so that a machine offline for months neither fills its disk nor
floods the collector when it comes back, and so that no retry outlives the server's memory of report ids:

- a report with the same content as the newest spooled one takes its place (the server would only count it
  as a check-in; an unchanged week offline is one report, not 168), so what stays is what changed;
- at most ``MAX_REPORTS`` reports and ``MAX_BYTES`` bytes: past either, the spool collapses to the newest
  report (the host's current state; the server's history then skips what was in between);
- none older than ``MAX_AGE`` (the server remembers a report id for 30 days: an older retry could be stored
  twice), by the time it was spooled, except the newest, which always stays: a clock that jumped a year
  ahead must not leave the spool empty.

The check imports this module (its path is measured): no ``json``, no ``re``, only what a write needs.
"""

from __future__ import annotations

import os
import stat

from clientcheck import dates as dt
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SCHEMA = "clientcheck.spool/1"
MAX_REPORTS = 100  # fewer than the 240 requests an hour the server takes from one host
MAX_BYTES = 16 * 1024 * 1024
MAX_AGE = dt.timedelta(days=30)
MAX_ENTRY_BYTES = 8 * 1024 * 1024  # twice what the server takes decompressed: no report of ours is this big
_SUFFIX = ".json"
_HEX = frozenset("0123456789abcdef")


class Entry(Record):
    """One spooled report, as its file's name and metadata tell (its content is read only to ship it)."""

    __slots__ = ("name", "sequence", "report_id", "content_hash", "size", "spooled")

    name: str
    sequence: int
    report_id: str
    content_hash: str
    size: int
    spooled: float  # when it was spooled (seconds since the epoch, by this machine's clock then)

    def __init__(self, name: str, sequence: int, report_id: str, content_hash: str, size: int, spooled: float) -> None:
        self._set(locals())


class Added(Record):
    """What adding a report did."""

    __slots__ = ("entry", "replaced", "dropped", "collapsed")

    entry: Entry
    replaced: str | None  # the report id of the unchanged report it took the place of
    dropped: tuple[str, ...]  # report ids removed as too old
    collapsed: tuple[str, ...]  # report ids removed because the spool was full

    def __init__(
        self, entry: Entry, replaced: str | None, dropped: tuple[str, ...], collapsed: tuple[str, ...]
    ) -> None:
        self._set(locals())


class Spooled(Record):
    """A spooled report, read back to be shipped."""

    __slots__ = ("entry", "report_id", "content_hash", "spooled_at", "report")

    entry: Entry
    report_id: str
    content_hash: str
    spooled_at: str
    report: dict[str, Any]

    def __init__(
        self, entry: Entry, report_id: str, content_hash: str, spooled_at: str, report: dict[str, Any]
    ) -> None:
        self._set(locals())


class DamagedEntryError(ValueError):
    """A spool file that cannot be read as a spooled report: it can never be shipped."""


def parse_name(name: str) -> tuple[int, int, str, str] | None:
    """(sequence, when spooled, report id, content hash) from a spool file's name; None for any other name."""
    if not name.endswith(_SUFFIX) or name.startswith("."):
        return None
    parts = name[: -len(_SUFFIX)].split("-")
    if len(parts) != 8:  # the sequence, the time, the report id's five groups, the hash
        return None
    sequence, spooled, digest = parts[0], parts[1], parts[7]
    report_id = "-".join(parts[2:7])
    if not all(part.isascii() and part.isdigit() and len(part) <= 18 for part in (sequence, spooled)):
        return None
    if len(digest) != 64 or not set(digest) <= _HEX or len(report_id) != 36 or not set(report_id) <= _HEX | {"-"}:
        return None
    return int(sequence), int(spooled), report_id, digest


class Spool:
    """The spool folder (made, owner-only, by ``collector.Collector.ensure``)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def entries(self) -> list[Entry]:
        """The spooled reports, oldest first. Anything else in the folder is ignored."""
        found: list[Entry] = []
        try:
            listing = list(os.scandir(self.folder))
        except FileNotFoundError:
            return []
        for item in listing:
            parsed = parse_name(item.name)
            if parsed is None:
                continue
            try:
                info = item.stat(follow_symlinks=False)
            except OSError:
                continue  # shipped and removed since the listing
            if not stat.S_ISREG(info.st_mode):
                continue
            sequence, spooled, report_id, digest = parsed
            found.append(Entry(item.name, sequence, report_id, digest, info.st_size, float(spooled)))
        found.sort(key=lambda entry: (entry.sequence, entry.name))
        return found

    def add(self, report_text: str, now: dt.datetime, *, report_id: str | None = None) -> Added:
        """Spool the report ``report_text`` (as ``check --format json`` writes it), judged ``now``: one atomic
        write, then what the bounds say goes. Raises ``NotCanonicalError`` for a report the collector could
        never take (and ``ValueError`` for text that is not JSON), ``OutputError`` when it
        cannot be written."""
        from clientcheck.cjson import loads
        from clientcheck.collector.canonical import content_hash, random_uuid
        from clientcheck.deliver import write_atomic

        body = report_text.strip()
        report = loads(body)
        if not isinstance(report, dict):
            from clientcheck.collector.canonical import NotCanonicalError

            raise NotCanonicalError("a report is a JSON object")
        digest = content_hash(report)
        report_id = report_id or random_uuid()
        before = self.entries()
        sequence = before[-1].sequence + 1 if before else 1
        when = max(0, int(now.timestamp()))
        name = f"{sequence:010d}-{when:011d}-{report_id}-{digest}{_SUFFIX}"
        stamp = now.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        head = f'{{"spool":"{SCHEMA}","report_id":"{report_id}","content_hash":"{digest}","spooled_at":"{stamp}",'
        payload = f'{head}"report":{body}}}\n'
        write_atomic(os.path.join(self.folder, name), payload, mode=0o600)
        added = Entry(name, sequence, report_id, digest, len(payload.encode("utf-8")), float(when))
        # Only now that the new report is safe does anything go.
        replaced = None
        if before and before[-1].content_hash == digest:
            unchanged = before.pop()
            self.remove(unchanged)
            replaced = unchanged.report_id
        cutoff = (now - MAX_AGE).timestamp()
        stale = [entry for entry in before if entry.spooled < cutoff]
        kept = [entry for entry in before if entry.spooled >= cutoff]
        for entry in stale:
            self.remove(entry)
        collapsed: list[Entry] = []
        if len(kept) + 1 > MAX_REPORTS or sum(entry.size for entry in kept) + added.size > MAX_BYTES:
            collapsed = kept
            for entry in collapsed:
                self.remove(entry)
        return Added(
            added, replaced, tuple(entry.report_id for entry in stale), tuple(entry.report_id for entry in collapsed)
        )

    def expire(self, now: dt.datetime) -> list[Entry]:
        """Remove the reports spooled more than ``MAX_AGE`` ago, but never the newest; the ones removed."""
        entries = self.entries()
        cutoff = (now - MAX_AGE).timestamp()
        stale = [entry for entry in entries[:-1] if entry.spooled < cutoff]
        return [entry for entry in stale if self.remove(entry)]

    def remove(self, entry: Entry) -> bool:
        """Remove a spooled report; False when it was gone already (shipped, or collapsed, meanwhile)."""
        try:
            os.unlink(os.path.join(self.folder, entry.name))
        except FileNotFoundError:
            return False
        return True

    def read(self, entry: Entry) -> Spooled:
        """The spooled report, to ship. ``DamagedEntryError`` for a file whose content is not one (it can
        never be shipped); ``FileNotFoundError`` when it was removed meanwhile; any other ``OSError`` when
        it cannot be read now (EIO, EMFILE, EACCES): the file stays, for a later try."""
        data = _read_entry(os.path.join(self.folder, entry.name), entry.name)
        from clientcheck.cjson import loads

        try:
            document = loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise DamagedEntryError(f"{entry.name}: not a spooled report (not JSON)") from None
        if not isinstance(document, dict) or document.get("spool") != SCHEMA:
            raise DamagedEntryError(f"{entry.name}: not a spooled report ({SCHEMA})")
        report = document.get("report")
        spooled_at = document.get("spooled_at")
        same = document.get("report_id") == entry.report_id and document.get("content_hash") == entry.content_hash
        if not isinstance(report, dict) or not isinstance(spooled_at, str) or not same:
            raise DamagedEntryError(f"{entry.name}: its contents do not match its name")
        return Spooled(entry, entry.report_id, entry.content_hash, spooled_at, report)

    def size(self) -> tuple[int, int]:
        """(reports, bytes) spooled."""
        entries = self.entries()
        return len(entries), sum(entry.size for entry in entries)


def _read_entry(path: str, name: str) -> bytes:
    """A spool file's bytes. Only what the file is (not a regular file, larger than any report of ours) makes
    it damaged; a failure to open or read it is the system's (a disk error, no descriptors left) and is
    raised as it came: removing a report for it would lose one that is whole."""
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in since the listing must not block the shipper
        | getattr(os, "O_NOFOLLOW", 0)
        | getattr(os, "O_CLOEXEC", 0)
        | getattr(os, "O_BINARY", 0)
    )
    descriptor = os.open(path, flags)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise DamagedEntryError(f"{name}: not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_ENTRY_BYTES:
            chunk = os.read(descriptor, 1024 * 1024)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(descriptor)
    if size > MAX_ENTRY_BYTES:
        raise DamagedEntryError(f"{name}: larger than any report ({MAX_ENTRY_BYTES // 1024 // 1024} MiB)")
    return b"".join(chunks)
