"""A shipping session: enroll when needed, then send the spool oldest first, one report at a time, doing
what each answer asks (docs/collector-protocol.md, "Answers"):

- ``202``: the report is in the store: removed from the spool; the next one goes at once (a backlog drains
  in one session, one request at a time, each after the previous answer); the session after this one
  waits for the server's ``next_check_in``.
- ``401 reenroll``: enroll again with the configured secret (a new agent id when the server says
  ``reset_agent_id``), then go on; ``401 revoked``: an admin removed this host: the key is dropped, the
  spool kept, nothing more is sent, and nothing enrolls again by itself (``clientcheck enroll`` does).
- ``413``/``422``: that report can never be taken: removed with a log line (and the server's detail), and
  the next one goes; the spool never blocks on it.
- ``429``/``503``: wait at least ``Retry-After``; other failures (no answer, TLS, ``408``, other ``5xx``, an
  answer that is not the protocol's): exponential backoff with full jitter, 30 s doubling to an hour,
  each wait a random fraction of that. A report leaves the spool only on a ``202`` that names it.

A session waits for what the schedule asks when the wait fits in its ``patience`` (the timers' and the
detached shipper's: minutes, so a short ``Retry-After`` is slept through), and otherwise stops, leaving
the time in the schedule for the next. A person's ``clientcheck ship`` (``explicit``) does not wait for the
next check-in or a backoff, only for what the server itself asked.

Everything the session touches is given: the collector folder, the settings it needs, the clock, sleep, the
random fraction, the HTTPS client, and the machine's identity. Tests give their own.
"""

from __future__ import annotations

from clientcheck import dates as dt
from clientcheck.collector import PATIENCE_SCHEDULED, SANE_WAIT
from clientcheck.collector.folder import Schedule, seconds_until_due
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from clientcheck.collector.folder import Collector, Enrollment
    from clientcheck.collector.spool import Entry
    from clientcheck.collector.wire import Answer, Send
    from clientcheck.config import Settings
    from clientcheck.inspect.identity import MachineIdentity

BACKOFF_BASE = 30.0  # seconds: the first failure's ceiling
BACKOFF_MAX = 3600.0  # the longest backoff
RETRY_AFTER_DEFAULT = 60.0  # a 429 or 503 whose Retry-After cannot be read
RETRY_AFTER_MAX = 86400.0  # a longer Retry-After is read as a day
NEXT_CHECK_IN_MAX = 7 * 86400  # a longer next_check_in is read as a week
MAX_SECRET_BYTES = 4096
NOT_ENROLLED = "not enrolled, and report.server names no collector: 'clientcheck enroll URL --secret-file FILE'"
__all__ = ["PATIENCE_SCHEDULED", "SANE_WAIT", "Result", "Session", "Setup", "seconds_until_due"]


class Setup(Record):
    """What a session takes from the settings in force."""

    __slots__ = ("server", "secret_file", "ca_bundle", "pseudonym", "platform")

    server: str | None  # report.server
    secret_file: str | None  # report.enroll_secret
    ca_bundle: str | None  # report.ca_bundle
    pseudonym: bool  # privacy.hostname = "pseudonym"
    platform: str

    def __init__(
        self, server: str | None, secret_file: str | None, ca_bundle: str | None, pseudonym: bool, platform: str
    ) -> None:
        self._set(locals())


class Result(Record):
    """How a session ended."""

    __slots__ = ("state", "sent", "dropped", "left", "message")

    state: str  # done, waiting (not due yet), retrying (after a failure), busy, revoked, not-enrolled,
    # refused-secret, stopped
    sent: int  # reports the server answered 202 for
    dropped: int  # reports removed unsent: refused for good (413/422), damaged, or past the spool's age
    left: int  # reports still spooled
    message: str  # one line for people

    def __init__(self, state: str, sent: int, dropped: int, left: int, message: str) -> None:
        self._set(locals())

    @property
    def failed(self) -> bool:
        """Whether something stands in the way that a person should look at (for ``ship``'s exit status)."""
        return self.state in ("retrying", "revoked", "not-enrolled", "refused-secret", "stopped") or (
            self.state == "waiting" and self.left > 0
        )


class Stopped(Exception):  # noqa: N818 - not an error: how a step ends the session
    """The session cannot go on (``state`` as ``Result.state``)."""

    def __init__(self, state: str, message: str) -> None:
        super().__init__(message)
        self.state = state
        self.message = message


class Waiting(Exception):  # noqa: N818 - not an error: a step asks the session to wait, then go on
    """The session must wait ``seconds`` (``reason`` as ``Schedule.reason``) before the next step."""

    def __init__(self, seconds: float, reason: str, message: str) -> None:
        super().__init__(message)
        self.seconds = seconds
        self.reason = reason
        self.message = message


def setup_of(settings: Settings, platform: str, *, machine: bool) -> Setup:
    """What a session takes from the settings. A user's session takes ``report.server`` and
    ``report.enroll_secret`` only from the user's own settings: the machine's configuration and managed
    policy are the machine-level run's (their secret file is root's alone)."""
    from clientcheck.collector import USERS_OWN

    def own(name: str) -> str | None:
        value: str | None = settings[name]
        return value if machine or settings.origins[name].level in USERS_OWN else None

    return Setup(
        own("report.server"),
        own("report.enroll_secret"),
        settings["report.ca_bundle"],
        settings["privacy.hostname"] == "pseudonym",
        platform,
    )


def random_fraction() -> float:
    """A uniform number in [0, 1) from the OS, for the backoff's jitter."""
    import os

    return int.from_bytes(os.urandom(4), "big") / 2**32


def pseudonym(agent_id: str) -> str:
    """The name a host is shipped under when ``privacy.hostname`` is ``pseudonym``: stable for its agent id,
    and telling nothing of the host's own name."""
    import hashlib

    return "host-" + hashlib.sha256(f"clientcheck host name:{agent_id}".encode()).hexdigest()[:12]


def read_secret(path: str) -> str:
    """The enrollment secret in ``path`` (``-`` is not a path here: the command reads stdin itself):
    its first line, stripped. ``ConfigError`` for a file that cannot be read or holds no secret."""
    from clientcheck.errors import ConfigError
    from clientcheck.reading import FileProblem, read_file

    try:
        data = read_file(path, MAX_SECRET_BYTES)
    except FileProblem as problem:
        raise ConfigError(f"the enrollment secret file {path}: {problem.reason}") from None
    return secret_text(data, f"the enrollment secret file {path}")


def exposed(path: str) -> str | None:
    """Why a secret file is not the reader's alone (others may read or write it), or None. POSIX modes only:
    a Windows file's ACL is the administrator's to set (docs/shipping.md shows how)."""
    import os
    import stat

    if os.name == "nt":
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    if info.st_mode & 0o077:
        return f"other users may read {path} (mode {stat.S_IMODE(info.st_mode):04o}): make it 0600"
    return None


def secret_text(data: bytes, where: str) -> str:
    from clientcheck.errors import ConfigError

    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not text") from None
    lines = text.splitlines()
    secret = lines[0].strip() if lines else ""
    if not secret or not secret.isascii() or not secret.isprintable() or " " in secret or len(lines) > 1:
        raise ConfigError(f"{where}: not an enrollment secret (one line, like ccs_…)")
    return secret


def fingerprint(secret: str) -> str:
    import hashlib

    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_server(one: str, other: str) -> bool:
    from clientcheck.net.urls import URLError, normalised

    try:
        return normalised(one).rstrip("/") == normalised(other).rstrip("/")
    except URLError:
        return one == other


class Session:
    """One shipping session over one collector folder."""

    def __init__(
        self,
        collector: Collector,
        setup: Setup,
        *,
        now: Callable[[], dt.datetime],
        sleep: Callable[[float], None],
        fraction: Callable[[], float],
        send: Send,
        identity: Callable[[], MachineIdentity],
    ) -> None:
        self.collector = collector
        self.setup = setup
        self.now = now
        self.sleep = sleep
        self.fraction = fraction
        self.send = send
        self._identity_of = identity
        self._identity: MachineIdentity | None = None
        self.sent = 0
        self.dropped = 0

    # --- the session -----------------------------------------------------------------------------------

    def run(self, *, explicit: bool = False, patience: float = 0.0) -> Result:
        import os

        if self.setup.server is None and not os.path.isdir(self.collector.folder):
            return Result("not-enrolled", 0, 0, 0, NOT_ENROLLED)  # nothing set up: nothing made either
        for note in self.collector.ensure():
            self.log(note)
        held = self.collector.lock()
        if held is None:
            return self._result("busy", "another shipper is running; it sends what is spooled")
        try:
            return self._run(explicit, patience)
        finally:
            held.close()

    def _run(self, explicit: bool, patience: float) -> Result:
        started = self.now()
        draining = False  # a 202 in this session: the backlog goes on without waiting for a check-in
        reenrolled = False
        failed = ""  # a failure in this session (what it was): from now on even a person's run waits as told
        for _step in range(4 * _max_reports() + 16):  # a bound: every step sends, drops or stops
            if self.collector.revoked():
                return self._result("revoked", self._revoked_message())
            wait = self._gate(explicit=explicit and not failed, draining=draining)
            if wait is not None:
                seconds, reason, until = wait
                left = patience - (self.now() - started).total_seconds()
                if seconds <= left:
                    self.sleep(seconds)
                    continue
                if failed:
                    return self._result("retrying", failed)
                return self._result("waiting", self._waiting_message(reason, until))
            try:
                try:
                    enrollment = self._enrolled()
                    if not self._ship_one(enrollment):
                        return self._result("done", self._done_message())
                    draining = True
                except _Reenroll as again:
                    if reenrolled:
                        raise self._backoff(f"enrolled again, and still told to: {again.reason}") from None
                    reenrolled = True
                    self.log(again.reason)
                    self._enroll(again.server, new_agent_id=again.new_agent_id, reason=again.reason)
            except Waiting as waiting:
                self._schedule(waiting.seconds, waiting.reason, last=waiting.message, failed=True)
                self.log(waiting.message)
                failed = waiting.message
            except Stopped as stop:
                self.log(stop.message)
                self._note_last(stop.message)
                return self._result(stop.state, stop.message)
        return self._result("waiting", "stopped after the most steps one session takes; the next goes on")

    def _gate(self, *, explicit: bool, draining: bool) -> tuple[float, str, dt.datetime] | None:
        """(seconds to wait, why, until) when the schedule says not yet; None when the session may go on."""
        schedule = self.collector.schedule()
        if schedule.not_before is None:
            return None
        if schedule.reason == "check-in" and (explicit or draining):
            return None  # a person asked now; or this session is draining a backlog
        if schedule.reason == "backoff" and explicit:
            return None
        now = self.now()
        seconds = seconds_until_due(schedule, now)
        if seconds is None:
            return None  # due; or this machine's clock was set back since: not obeyed
        return seconds, schedule.reason, now + dt.timedelta(seconds=seconds)

    # --- enrolling -------------------------------------------------------------------------------------

    def _enrolled(self) -> Enrollment:
        """The enrollment to ship with: the one kept, when it is for the server the settings name; else a
        new one, made now with the configured secret."""
        enrollment = self.collector.enrollment()
        server = self.setup.server or (enrollment.server if enrollment else None)
        if server is None:
            raise Stopped("not-enrolled", NOT_ENROLLED)
        from clientcheck.net.urls import URLError, check

        try:
            check(server)
        except URLError as refused:  # a setting to fix, not a network to wait for
            raise Stopped("stopped", f"the collector {server}: {refused}") from None
        if enrollment is not None and same_server(enrollment.server, server):
            return enrollment
        reason = "not enrolled yet" if enrollment is None else f"report.server is now {server}"
        return self._enroll(server, new_agent_id=False, reason=reason)

    def _enroll(self, server: str, *, new_agent_id: bool, reason: str) -> Enrollment:
        """Enroll with the secret ``report.enroll_secret`` names; the new enrollment, kept."""
        from clientcheck.errors import ConfigError

        if self.setup.secret_file is None:
            raise Stopped(
                "not-enrolled",
                f"cannot enroll ({reason}): report.enroll_secret names no secret file; "
                "'clientcheck enroll URL --secret-file FILE' enrolls by hand",
            )
        try:
            secret = read_secret(self.setup.secret_file)
        except ConfigError as problem:
            raise Stopped("not-enrolled", f"cannot enroll ({reason}): {problem.message}") from None
        open_to_others = exposed(self.setup.secret_file)
        if open_to_others:
            self.log(f"the enrollment secret: {open_to_others}")
        schedule = self.collector.schedule()
        if schedule.rejected_secret == fingerprint(secret):
            raise Stopped(
                "refused-secret",
                f"the collector refused the enrollment secret in {self.setup.secret_file} before: not tried "
                "again until the file holds another",
            )
        return self.enroll_with(server, secret, new_agent_id=new_agent_id, ca_bundle=self.setup.ca_bundle)

    def enroll_with(self, server: str, secret: str, *, new_agent_id: bool, ca_bundle: str | None) -> Enrollment:
        """Enroll this folder's agent at ``server`` with ``secret``; the enrollment, kept. Raises ``Stopped`` or
        ``Waiting`` as the answer says (``enroll`` the command turns them into its errors)."""
        from clientcheck.collector import wire
        from clientcheck.collector.folder import Enrollment
        from clientcheck.net.messages import FetchError, bearer_token

        collector = self.collector
        agent_id = collector.make_agent_id(new=new_agent_id)
        identity = self.identity()
        try:
            answer = wire.enroll(
                self.send,
                server,
                secret,
                agent_id=agent_id,
                hostname=self.hostname(agent_id),
                hints=identity.hints,
                boot_id=identity.boot_id,
                platform=self.setup.platform,
                run_as=collector.run_as,
                ca_bundle=ca_bundle,
            )
        except FetchError as failure:
            raise self._backoff(f"cannot enroll at {server}: {failure}") from None
        if answer.status == 200:
            key = answer.document.get("host_key")
            try:
                well_formed = isinstance(key, str) and bearer_token(key, server) == key
            except FetchError:
                well_formed = False
            if not well_formed or answer.document.get("agent_id") != agent_id:
                raise self._backoff(f"cannot enroll at {server}: the answer is not an enrollment ({answer.where})")
            assert isinstance(key, str)  # noqa: S101 - checked just above
            host_id = answer.number("host_id")
            group = answer.document.get("group")
            enrollment = Enrollment(
                server,
                agent_id,
                key,
                host_id,
                collector.run_as,
                group if isinstance(group, str) else None,
                _stamp(self.now()),
                ca_bundle,
            )
            collector.save_enrollment(enrollment)
            seconds = min(answer.number("next_check_in") or 0, NEXT_CHECK_IN_MAX)
            flags = [flag for flag in ("reimaged", "clone") if answer.document.get(flag) is True]
            message = f"enrolled at {server} as host {host_id} (agent id {agent_id}" + "".join(
                f", {flag}" for flag in flags
            )
            message += f", group {group})" if isinstance(group, str) else ")"
            until = (self.now() + dt.timedelta(seconds=seconds)).astimezone(dt.timezone.utc)
            collector.save_schedule(
                Schedule(
                    until.isoformat().replace("+00:00", "Z"), "check-in", 0, None, f"{_stamp(self.now())} {message}"
                )
            )
            self.log(message)
            return enrollment
        if answer.status == 401:
            schedule = collector.schedule()
            collector.save_schedule(schedule.replace(rejected_secret=fingerprint(secret)))
            raise Stopped("refused-secret", f"the collector at {server} refused the enrollment secret: {answer.detail}")
        if answer.status in (413, 422):  # a bug, or a setting the server cannot take: not retried in this session
            raise Stopped("stopped", f"cannot enroll at {server}: {_said(answer)}")
        if answer.status in (429, 503):
            raise self._retry_after(answer, f"cannot enroll at {server}: {answer.status} ({answer.detail})")
        raise self._backoff(f"cannot enroll at {server}: {_said(answer)}")

    # --- shipping --------------------------------------------------------------------------------------

    def _ship_one(self, enrollment: Enrollment) -> bool:
        """Send the oldest spooled report; False when the spool is empty."""
        from clientcheck.collector import wire
        from clientcheck.collector.spool import DamagedEntryError
        from clientcheck.net.messages import FetchError

        spool = self.collector.spool
        for entry in spool.expire(self.now()):
            self._dropped(entry, "spooled more than 30 days ago (the collector may have forgotten its id)")
        entries = spool.entries()
        if not entries:
            return False
        entry = entries[0]
        try:
            spooled = spool.read(entry)
        except FileNotFoundError:
            return True  # collapsed by a check meanwhile: the next one
        except DamagedEntryError as damaged:
            spool.remove(entry)
            self._dropped(entry, str(damaged))
            return True
        except OSError as error:  # the system's failure, not the report's: kept, and tried again later
            raise self._backoff(
                f"report {entry.report_id} not read from the spool: {error.strerror or error}"
            ) from None
        identity = self.identity()
        document = wire.envelope(
            spooled.report,
            report_id=spooled.report_id,
            content_hash=spooled.content_hash,
            agent_id=enrollment.agent_id,
            hostname=self.hostname(enrollment.agent_id),
            hints=identity.hints,
            boot_id=identity.boot_id,
            run_as=enrollment.run_as,
        )
        ca_bundle = self.setup.ca_bundle or enrollment.ca_bundle
        try:
            answer = wire.ship(self.send, enrollment.server, enrollment.host_key, document, ca_bundle)
        except FetchError as failure:
            raise self._backoff(f"report {entry.report_id} not sent: {failure}") from None
        self._answered(answer, entry, enrollment)
        return True

    def _answered(self, answer: Answer, entry: Entry, enrollment: Enrollment) -> None:
        status, error = answer.status, answer.error
        if status == 202 and answer.document.get("report_id") == entry.report_id:
            self.collector.spool.remove(entry)
            self.sent += 1
            outcome = answer.document.get("outcome")
            seconds = min(answer.number("next_check_in") or 0, NEXT_CHECK_IN_MAX)
            message = f"report {entry.report_id}: {outcome if isinstance(outcome, str) else 'accepted'}"
            self._schedule(seconds, "check-in", last=message, failed=False)
            self.log(message)
            return
        if status == 401 and error == "revoked":
            message = f"an admin removed this host from the collector ({enrollment.server}): {answer.detail}"
            self.collector.mark_revoked(message, self.now())
            raise Stopped("revoked", self._revoked_message())
        if status == 401 and error == "reenroll":
            new_agent_id = answer.document.get("reset_agent_id") is True
            why = "the server asked to enroll again" + (" with a new agent id" if new_agent_id else "")
            raise _Reenroll(enrollment.server, new_agent_id, f"{why}: {answer.detail}")
        if status in (413, 422):
            self.collector.spool.remove(entry)
            self._dropped(entry, f"refused for good ({status} {error or ''}): {answer.detail}")
            return
        if status in (429, 503):
            raise self._retry_after(
                answer, f"report {entry.report_id} not sent: {status} {error or ''} ({answer.detail})"
            )
        raise self._backoff(f"report {entry.report_id} not sent: {_said(answer)}")

    # --- waiting ---------------------------------------------------------------------------------------

    def _retry_after(self, answer: Answer, message: str) -> Waiting:
        """The wait a 429 or 503 asks: at least its Retry-After, and at least the backoff's jitter."""
        asked = answer.retry_after
        asked = RETRY_AFTER_DEFAULT if asked is None else min(asked, RETRY_AFTER_MAX)
        schedule = self.collector.schedule()
        jitter = self._jitter(schedule.failures + 1)
        self._failures(schedule.failures + 1)
        return Waiting(max(asked, jitter), "retry-after", f"{message}; the server asked to wait {asked:g} s")

    def _backoff(self, message: str) -> Waiting:
        """The wait after a failure: exponential backoff with full jitter."""
        failures = self.collector.schedule().failures + 1
        self._failures(failures)
        wait = self._jitter(failures)
        return Waiting(wait, "backoff", f"{message}; trying again in {wait:.0f} s")

    def _jitter(self, failures: int) -> float:
        """Full jitter: a random fraction of 30 s doubled per failure in a row, at most an hour."""
        ceiling = min(BACKOFF_MAX, BACKOFF_BASE * (1 << min(failures - 1, 20)))
        return ceiling * self.fraction()

    def _failures(self, failures: int) -> None:
        schedule = self.collector.schedule()
        self.collector.save_schedule(schedule.replace(failures=failures))

    def _schedule(self, seconds: float, reason: str, *, last: str, failed: bool) -> None:
        now = self.now()
        schedule = self.collector.schedule()
        until = now + dt.timedelta(seconds=seconds)
        self.collector.save_schedule(
            schedule.replace(
                not_before=until.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
                reason=reason,
                failures=schedule.failures if failed else 0,
                last=f"{_stamp(now)} {last}",
            )
        )

    def _note_last(self, message: str) -> None:
        schedule = self.collector.schedule()
        self.collector.save_schedule(schedule.replace(last=f"{_stamp(self.now())} {message}"))

    # --- what a session tells ----------------------------------------------------------------------------

    def log(self, message: str) -> None:
        self.collector.log(message, self.now())

    def _dropped(self, entry: Entry, why: str) -> None:
        self.dropped += 1
        self.log(f"report {entry.report_id} dropped: {why}")

    def identity(self) -> MachineIdentity:
        if self._identity is None:
            self._identity = self._identity_of()
        return self._identity

    def hostname(self, agent_id: str) -> str:
        name = self.identity().hostname
        return pseudonym(agent_id) if self.setup.pseudonym or not name else name

    def _result(self, state: str, message: str) -> Result:
        left = len(self.collector.spool.entries())
        return Result(state, self.sent, self.dropped, left, message)

    def _revoked_message(self) -> str:
        revocation = self.collector.revocation() or {}
        detail = revocation.get("detail") or "an admin removed this host from the collector"
        return f"{detail}; not shipping, spool kept: 'clientcheck enroll' joins again"

    def _waiting_message(self, reason: str, until: dt.datetime) -> str:
        why = {
            "check-in": "the collector's next check-in",
            "retry-after": "the collector asked to wait (429/503)",
            "backoff": "backing off after a failure",
        }.get(reason, reason)
        return f"not before {_stamp(until)}: {why}"

    def _done_message(self) -> str:
        if self.sent or self.dropped:
            dropped = f", {self.dropped} dropped (see the log)" if self.dropped else ""
            return f"{self.sent} report(s) sent{dropped}; the spool is empty"
        return "nothing to send: the spool is empty"


class _Reenroll(Exception):  # noqa: N818 - not an error: the server asked for a new enrollment
    def __init__(self, server: str, new_agent_id: bool, reason: str) -> None:
        super().__init__(reason)
        self.server = server
        self.new_agent_id = new_agent_id
        self.reason = reason


def _said(answer: Answer) -> str:
    reason = f" {answer.error}" if answer.error else ""
    return f"HTTP {answer.status}{reason} ({answer.detail}) from {answer.where}"


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _max_reports() -> int:
    from clientcheck.collector.spool import MAX_REPORTS

    return MAX_REPORTS
