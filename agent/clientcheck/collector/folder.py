"""The collector folder of one place (the machine's, or one user's) and what is kept in it: the agent id
(made once), the enrollment (the host key: owner-only), the revocation, the schedule (when the collector
may next be asked, and why), the log, the shipping lock, and the spool (``spool``)."""

from __future__ import annotations

import os
import sys

from clientcheck import dates as dt
from clientcheck.collector import (
    AGENT_ID,
    ENROLLMENT,
    ENROLLMENT_SCHEMA,
    LOCK,
    LOG,
    MAX_LOG_BYTES,
    MAX_STATE_BYTES,
    REVOKED,
    SANE_WAIT,
    SCHEDULE,
    SCHEDULE_SCHEMA,
    SPOOL,
)
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

    from clientcheck.collector.spool import Spool


class Enrollment(Record):
    """What an enrollment answered, kept owner-only: the host key is the host's credential."""

    __slots__ = ("server", "agent_id", "host_key", "host_id", "run_as", "group", "enrolled_at", "ca_bundle")

    server: str
    agent_id: str
    host_key: str
    host_id: int | None
    run_as: str
    group: str | None
    enrolled_at: str
    ca_bundle: str | None  # the one `enroll --ca-bundle` named, used when report.ca_bundle names none

    def __init__(
        self,
        server: str,
        agent_id: str,
        host_key: str,
        host_id: int | None,
        run_as: str,
        group: str | None,
        enrolled_at: str,
        ca_bundle: str | None,
    ) -> None:
        self._set(locals())


class Schedule(Record):
    """When the shipper may next talk to the collector, and why; what happened last."""

    __slots__ = ("not_before", "reason", "failures", "rejected_secret", "last")

    not_before: str | None  # UTC, ISO 8601, by this machine's clock
    reason: str  # "check-in" (the server's next_check_in), "retry-after" (its 429/503), "backoff", or ""
    failures: int  # failed attempts in a row: the backoff's exponent
    rejected_secret: str | None  # SHA-256 of a secret the server refused: not tried again until it changes
    last: str  # one line: what the last session did, with its time

    def __init__(
        self, not_before: str | None, reason: str, failures: int, rejected_secret: str | None, last: str
    ) -> None:
        self._set(locals())


NO_SCHEDULE = Schedule(None, "", 0, None, "")


def seconds_until_due(schedule: Schedule, now: dt.datetime) -> float | None:
    """Seconds until the schedule lets a scheduled session talk to the collector; None when it may now (or
    the wait is one a clock set back made)."""
    if schedule.not_before is None:
        return None
    until = _moment(schedule.not_before)
    if until is None:
        return None
    seconds = (until - now).total_seconds()
    return seconds if 0 < seconds <= SANE_WAIT else None


class Collector:
    """One collector folder (a machine's, or one user's) and what is kept in it."""

    def __init__(self, folder: str, run_as: str) -> None:
        self.folder = folder
        self.run_as = run_as  # "machine" or "user"

    def path(self, name: str) -> str:
        return os.path.join(self.folder, name)

    @property
    def spool(self) -> Spool:
        from clientcheck.collector.spool import Spool

        return Spool(self.path(SPOOL))

    def ensure(self) -> list[str]:
        """Make the folder (and its state folder) owner-only, or check and repair what is there
        (``folders.own_folder``: refused when it is another user's), and a new shipping lock when it was
        open to others (``folders.free_lock``). Notes of what was repaired."""
        from clientcheck.folders import free_lock, own_folder, state_file

        notes = own_folder(os.path.dirname(self.folder), "state folder", ours=state_file)
        notes += own_folder(self.folder, "collector folder", ours=lambda _name: True, subfolders=(SPOOL,))
        free_lock(self.path(LOCK), notes)
        if sys.platform == "win32":  # pragma: no cover - Windows only
            from clientcheck.collector.winacl import protect

            protect(self.folder, machine=self.run_as == "machine")
        return notes

    # --- what a check asks, with a stat each -----------------------------------------------------------

    def enrolled(self) -> bool:
        return os.path.isfile(self.path(ENROLLMENT))

    def revoked(self) -> bool:
        return os.path.isfile(self.path(REVOKED))

    # --- the agent id ----------------------------------------------------------------------------------

    def agent_id(self) -> str | None:
        """The agent id made for this folder, if one was; None when it was not (or cannot be read)."""
        text = _read_text(self.path(AGENT_ID))
        return text if text is not None and _is_uuid(text) else None

    def make_agent_id(self, *, new: bool = False) -> str:
        """The agent id, made once (a random UUID); ``new`` makes another (the server found this one
        reporting from two machines)."""
        current = None if new else self.agent_id()
        if current is not None:
            return current
        from clientcheck.collector.canonical import random_uuid
        from clientcheck.deliver import write_atomic

        made = random_uuid()
        write_atomic(self.path(AGENT_ID), made + "\n", mode=0o600)
        return made

    # --- the enrollment --------------------------------------------------------------------------------

    def enrollment(self) -> Enrollment | None:
        document = _read_json(self.path(ENROLLMENT))
        if not isinstance(document, dict) or document.get("schema") != ENROLLMENT_SCHEMA:
            return None
        texts: dict[str, str] = {}
        for name in ("server", "agent_id", "host_key", "run_as", "enrolled_at"):
            value = document.get(name)
            if not isinstance(value, str) or not value:
                return None
            texts[name] = value
        host_id = document.get("host_id")
        group = document.get("group")
        ca_bundle = document.get("ca_bundle")
        return Enrollment(
            texts["server"],
            texts["agent_id"],
            texts["host_key"],
            host_id if isinstance(host_id, int) and not isinstance(host_id, bool) else None,
            texts["run_as"],
            group if isinstance(group, str) else None,
            texts["enrolled_at"],
            ca_bundle if isinstance(ca_bundle, str) and ca_bundle else None,
        )

    def save_enrollment(self, enrollment: Enrollment) -> None:
        document = {"schema": ENROLLMENT_SCHEMA, **{name: getattr(enrollment, name) for name in Enrollment.__slots__}}
        _write_json(self.path(ENROLLMENT), document)
        _remove(self.path(REVOKED))

    def mark_revoked(self, detail: str, now: dt.datetime) -> None:
        """The server said an admin removed this host: the key is dropped and nothing more is sent until
        someone runs ``clientcheck enroll`` again. The spool is kept."""
        enrollment = self.enrollment()
        document = {
            "at": _stamp(now),
            "detail": detail,
            "server": enrollment.server if enrollment else None,
            "host_id": enrollment.host_id if enrollment else None,
        }
        _write_json(self.path(REVOKED), document)
        _remove(self.path(ENROLLMENT))

    def revocation(self) -> dict[str, Any] | None:
        document = _read_json(self.path(REVOKED))
        return document if isinstance(document, dict) else ({} if self.revoked() else None)

    def forget(self, *, everything: bool = False) -> list[str]:
        """Remove the host key, the revocation, the schedule and the spool (``unenroll``; the agent id and
        the log stay, so that enrolling again is the same host); with ``everything``, the agent id, the log
        and the folder too (uninstalling). The names removed."""
        removed = []
        names = [ENROLLMENT, REVOKED, SCHEDULE] + ([AGENT_ID, LOG, LOCK] if everything else [])
        for name in names:
            if _remove(self.path(name)):
                removed.append(name)
        spool = self.spool
        for entry in spool.entries():
            if spool.remove(entry):
                removed.append(f"{SPOOL}/{entry.name}")
        if everything:
            for folder in (self.path(SPOOL), self.folder):
                try:
                    os.rmdir(folder)
                except OSError:
                    pass  # not empty (a stranger's file) or not there: left alone
        return removed

    # --- the schedule ----------------------------------------------------------------------------------

    def schedule(self) -> Schedule:
        document = _read_json(self.path(SCHEDULE))
        if not isinstance(document, dict) or document.get("schema") != SCHEDULE_SCHEMA:
            return NO_SCHEDULE
        not_before = document.get("not_before")
        failures = document.get("failures")
        rejected = document.get("rejected_secret")
        return Schedule(
            not_before if isinstance(not_before, str) and _moment(not_before) is not None else None,
            str(document.get("reason") or ""),
            failures if isinstance(failures, int) and not isinstance(failures, bool) and 0 <= failures < 64 else 0,
            rejected if isinstance(rejected, str) else None,
            str(document.get("last") or ""),
        )

    def save_schedule(self, schedule: Schedule) -> None:
        document = {"schema": SCHEDULE_SCHEMA, **{name: getattr(schedule, name) for name in Schedule.__slots__}}
        _write_json(self.path(SCHEDULE), document)

    # --- the log and the lock --------------------------------------------------------------------------

    def log(self, message: str, now: dt.datetime) -> None:
        """One line in ``ship.log`` (owner-only), which keeps about the last ``MAX_LOG_BYTES``."""
        from clientcheck.visible import one_line

        path = self.path(LOG)
        line = f"{_stamp(now)} {one_line(message)}\n".encode("utf-8", errors="backslashreplace")
        try:
            # O_BINARY: on Windows the line's \n must not become \r\n (the log is read back as written).
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
            descriptor = os.open(path, flags, 0o600)
        except OSError:
            return  # a log that cannot be written is no reason to stop shipping
        try:
            os.write(descriptor, line)
            size = os.fstat(descriptor).st_size
        except OSError:
            size = 0
        finally:
            os.close(descriptor)
        if size > MAX_LOG_BYTES:
            _trim(path, MAX_LOG_BYTES // 2)

    def read_log(self, lines: int) -> list[str]:
        text = _read_text(self.path(LOG), whole=True) or ""
        return text.splitlines()[-lines:]

    def lock(self) -> IO[bytes] | None:
        """Hold the shipping lock while the returned file is open; None when another shipper holds it (the
        OS drops it when its holder exits, however it exits)."""
        from clientcheck.folders import hold_lock

        try:
            return hold_lock(self.path(LOCK))
        except OSError as error:
            from clientcheck.errors import OutputError

            raise OutputError(f"cannot open the lock {self.path(LOCK)}: {error.strerror or error}") from None


# --- small files ---------------------------------------------------------------------------------------


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def _is_uuid(text: str) -> bool:
    parts = text.split("-")
    return [len(part) for part in parts] == [8, 4, 4, 4, 12] and all(
        set(part) <= set("0123456789abcdef") for part in parts
    )


def _read_text(path: str, *, whole: bool = False) -> str | None:
    from clientcheck.reading import FileProblem, read_file

    try:
        data = read_file(path, MAX_LOG_BYTES * 2 if whole else MAX_STATE_BYTES)
    except (FileProblem, OSError):
        return None
    return data.decode("utf-8", errors="replace").strip()


def _read_json(path: str) -> Any:
    text = _read_text(path)
    if text is None:
        return None
    from clientcheck.cjson import loads

    try:
        return loads(text)
    except (ValueError, RecursionError):
        return None


def _write_json(path: str, document: dict[str, Any]) -> None:
    from clientcheck.cjson import dumps_compact
    from clientcheck.deliver import write_atomic

    write_atomic(path, dumps_compact(document) + "\n", mode=0o600)


def _remove(path: str) -> bool:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def _trim(path: str, keep: int) -> None:
    """Keep the last ``keep`` bytes of a log (from a line's start)."""
    from clientcheck.deliver import write_atomic
    from clientcheck.errors import ClientcheckError

    try:
        with open(path, "rb") as stream:
            stream.seek(0, os.SEEK_END)
            stream.seek(max(0, stream.tell() - keep))
            tail = stream.read()
        write_atomic(path, tail[tail.find(b"\n") + 1 :], mode=0o600)
    except (OSError, ClientcheckError):
        pass
