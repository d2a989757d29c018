"""The agent's side of the fleet collector (``clientcheck-server``; the wire is docs/collector-protocol.md).

A host is a machine. The machine-level run (root or SYSTEM: the machine timer ``autostart install --system``
sets up, or a fleet tool's own run of ``clientcheck check``) enrolls, spools and ships, and keeps its agent
id, host key and spool in the machine's state folder, readable by root (or SYSTEM and Administrators)
alone. A person's login run notifies as before and ships nothing. Where clientcheck was installed for one
user without root, that user may enroll their own install (``run_as: "user"``), kept in their own state
folder.

The pieces: this module (where the collector folder is, and whether a run ships at all: what every check
asks, so it stays small), ``folder`` (the collector folder: agent id, enrollment, schedule, log, lock),
``canonical`` (the content hash), ``spool`` (the reports waiting, bounded), ``wire`` (the two requests and
their answers, over ``net``), ``shipping`` (a shipping session: enroll when needed, send oldest first, back
off, obey the server), ``detach`` (a check starts the shipper and does not wait) and ``winacl`` (the
machine's folder on Windows, for SYSTEM and Administrators alone).

A check only spools: one atomic write, and the shipper started detached. Nothing here is imported by a run
that ships nothing, beyond what deciding that costs (a ``stat`` or two).
"""

from __future__ import annotations

import os
import sys

from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck.collector.folder import Collector
    from clientcheck.config import Settings

FOLDER = "collector"
AGENT_ID = "agent-id"
ENROLLMENT = "enrollment.json"
REVOKED = "revoked.json"
SCHEDULE = "schedule.json"
LOG = "ship.log"
LOCK = "ship.lock"
SPOOL = "spool"
ENROLLMENT_SCHEMA = "clientcheck.enrollment/1"
SCHEDULE_SCHEMA = "clientcheck.schedule/1"
MAX_STATE_BYTES = 64 * 1024
MAX_LOG_BYTES = 256 * 1024
# Who may enroll and ship from their own settings: a user's own file or environment, never the machine's
# configuration or managed policy (those are for the machine-level run: every user's login would otherwise
# enroll a host of its own).
USERS_OWN = ("user", "environment", "command line")


def machine_level() -> bool:
    """Whether this run acts for the machine: root, or on Windows an administrator's elevated run or SYSTEM."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import ctypes

        try:
            return bool(ctypes.windll.shell32.IsUserAnAdmin())
        except (AttributeError, OSError):
            return False
    return os.geteuid() == 0


def folder_of(env: Mapping[str, str], platform: str, machine: bool) -> str | None:
    """The collector folder: ``collector`` in the run's state folder, which is ``CLIENTCHECK_STATE_DIR``
    when the environment names one (tests, and a packager's own layout), else the machine's
    (``/var/lib/clientcheck``; ``ProgramData\\clientcheck\\state``; ``/Library/Application Support/
    clientcheck/state``) for a machine-level run, else the user's. None without a home."""
    from clientcheck import dirs

    base = env.get("CLIENTCHECK_STATE_DIR", "").strip()
    if not base:
        found = dirs.machine_state_dir(platform, env) if machine else dirs.user_state_dir(platform, env)
        if found is None:
            return None
        base = found
    separator = "\\" if platform == "windows" and "\\" in base else os.sep
    return base.rstrip("/\\") + separator + FOLDER


# The most a scheduled session (the machine timer's, a check's detached shipper) waits through itself.
PATIENCE_SCHEDULED = 600.0
# A wait in the schedule further ahead than the server can ask (a week's next_check_in, at most) is a clock
# that was set back since it was written: not obeyed.
SANE_WAIT = 7 * 86400 + 3600


class Plan(Record):
    """Whether a run of ``check`` or ``login`` spools its report, and what to tell the reader."""

    __slots__ = ("folder", "run_as", "warning")

    folder: str | None  # the collector folder to spool in; None: this run ships nothing
    run_as: str
    warning: str | None

    def __init__(self, folder: str | None, run_as: str = "machine", warning: str | None = None) -> None:
        self._set(locals())

    @property
    def collector(self) -> Collector | None:
        if self.folder is None:
            return None
        from clientcheck.collector.folder import Collector

        return Collector(self.folder, self.run_as)


def plan(settings: Settings, env: Mapping[str, str], platform: str, *, machine: bool) -> Plan:
    """Whether this run (``machine``-level or a user's) spools its report: when its folder holds an
    enrollment, or when it may enroll by itself (the machine-level run with ``report.server`` and
    ``report.enroll_secret`` set anywhere; a user's run only when both come from the user's own settings).
    A host an admin removed ships nothing until ``clientcheck enroll`` is run again, and says so."""
    folder = folder_of(env, platform, machine)
    if folder is None:
        return Plan(None)
    run_as = "machine" if machine else "user"
    # Two stats: all a run that ships nothing pays to learn so.
    if os.path.isfile(os.path.join(folder, REVOKED)):
        return Plan(
            None,
            run_as,
            "this host was removed from the collector by an admin: its reports are not shipped "
            f"({os.path.join(folder, REVOKED)}); 'clientcheck enroll' joins it again",
        )
    if os.path.isfile(os.path.join(folder, ENROLLMENT)):
        return Plan(folder, run_as)
    server, secret = settings["report.server"], settings["report.enroll_secret"]
    if server is None:
        return Plan(None)
    if not machine:
        origins = (settings.origins["report.server"].level, settings.origins["report.enroll_secret"].level)
        own = secret is not None and all(level in USERS_OWN for level in origins)
        return Plan(folder if own else None, run_as)
    if secret is None:
        return Plan(
            None,
            run_as,
            f"report.server is set ({server}), but this machine is not enrolled and report.enroll_secret names "
            "no secret file: nothing is shipped ('clientcheck enroll URL --secret-file FILE' enrolls it)",
        )
    return Plan(folder, run_as)
