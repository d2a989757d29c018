"""``clientcheck enroll``, ``unenroll`` and ``ship``: the agent's side of the fleet collector
(``clientcheck.collector``), and ``spool_and_start``, which ``commands.spool_after`` calls for ``check`` and
``login`` when their run ships."""

from __future__ import annotations

from clientcheck.commands import say, warn
from clientcheck.deliver import write_stream
from clientcheck.errors import ClientcheckError, CollectorError, ExitStatus, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck import dates as dt
    from clientcheck.arguments import Parsed
    from clientcheck.collector.folder import Collector
    from clientcheck.collector.shipping import Session
    from clientcheck.config import Settings
    from clientcheck.inspect.identity import MachineIdentity
    from clientcheck.model import Report
    from clientcheck.net.messages import Policy, Request, Response


def spool_and_start(
    collector: Collector, report: Report, env: Mapping[str, str], now: dt.datetime, json_text: str | None
) -> None:
    """Spool the report and start the shipper detached."""
    _spool(collector, report, now, json_text)
    _start_shipper(collector, env, now)


def _spool(collector: Collector, report: Report, now: dt.datetime, json_text: str | None) -> None:
    from clientcheck.collector.canonical import NotCanonicalError
    from clientcheck.commands import render

    for note in collector.ensure():
        warn(note)
    try:
        added = collector.spool.add(json_text if json_text is not None else render(report, "json"), now)
    except (NotCanonicalError, ValueError) as refused:
        collector.log(f"a report was not spooled: {refused}", now)
        raise CollectorError(f"the collector could never take this report: {refused}") from None
    if added.collapsed:
        collector.log(
            f"the spool was full: collapsed to the newest report ({len(added.collapsed)} older ones dropped unsent)",
            now,
        )
    if added.dropped:
        collector.log(f"{len(added.dropped)} report(s) spooled more than 30 days ago dropped unsent", now)


def _start_shipper(collector: Collector, env: Mapping[str, str], now: dt.datetime) -> None:
    """Start the shipper, unless it would only find that the collector is not due for a while: a process
    started at every check to wait out an hour is not worth its start. The report waits in the spool for
    the machine timer or a later check."""
    from clientcheck.collector import PATIENCE_SCHEDULED
    from clientcheck.collector.folder import seconds_until_due

    waiting = seconds_until_due(collector.schedule(), now)
    if waiting is not None and waiting > PATIENCE_SCHEDULED:
        return
    from clientcheck.collector import detach

    try:
        detach.start_shipper(env)
    except OSError as error:
        # The report is safe in the spool: the machine timer, or the next check, ships it.
        collector.log(f"cannot start the shipper: {error.strerror or error}", now)
        warn(f"cannot start the shipper ({error.strerror or error}): the next run ships the report")


def _session(settings: Settings, env: Mapping[str, str], now: dt.datetime) -> Session:
    import time

    from clientcheck import dates as dt
    from clientcheck.collector import folder_of, machine_level
    from clientcheck.collector.folder import Collector
    from clientcheck.collector.shipping import Session, random_fraction, setup_of
    from clientcheck.errors import OutputError
    from clientcheck.platforms import this_platform

    platform = this_platform()
    machine = machine_level()
    folder = folder_of(env, platform, machine)
    if folder is None:
        raise OutputError(
            "no state folder for the collector: the environment names no home folder",
            hint="run it as root (the machine), or in the user's session",
        )
    started = time.monotonic()

    def clock() -> dt.datetime:
        # The clock main was given, moved on by the time this run has taken (tests give main their own).
        return now + dt.timedelta(seconds=time.monotonic() - started)

    def send(request: Request, policy: Policy) -> Response:
        from clientcheck.net.https import send

        return send(request, policy)

    def identity() -> MachineIdentity:
        from clientcheck.inspect.identity import machine_identity

        return machine_identity(platform)

    return Session(
        Collector(folder, "machine" if machine else "user"),
        setup_of(settings, platform, machine=machine),
        now=clock,
        sleep=time.sleep,
        fraction=random_fraction,
        send=send,
        identity=identity,
    )


def enroll(args: Parsed, settings: Settings, env: Mapping[str, str], now: dt.datetime) -> int:
    from clientcheck.collector.shipping import Stopped, Waiting, same_server
    from clientcheck.net.urls import URLError, check

    url = args.positionals[0]
    if "://" not in url:
        raise UsageError(f"{url!r} is not the collector's address", hint=f"give it with its scheme: https://{url}")
    try:
        check(url)
    except URLError as refused:
        raise UsageError(f"{url!r}: {refused}") from None
    configured = settings["report.server"]
    if configured is not None and not same_server(configured, url):
        raise UsageError(
            f"report.server is {configured} ({settings.origins['report.server']}): this machine ships there, "
            f"not to {url}",
            hint="enroll at that server, or change report.server first",
        )
    secret = _secret(args, settings)
    session = _session(settings, env, now)
    collector = session.collector
    for note in collector.ensure():
        warn(note)
    held = collector.lock()
    if held is None:
        raise CollectorError(
            "a shipper is running for this machine right now", hint="try again when it is done (seconds to minutes)"
        )
    try:
        enrollment = session.enroll_with(
            url, secret, new_agent_id=False, ca_bundle=args.server_ca_bundle or settings["report.ca_bundle"]
        )
    except (Stopped, Waiting) as failed:
        raise CollectorError(failed.message) from None
    finally:
        held.close()
    as_who = "this machine" if collector.run_as == "machine" else "this user's clientcheck (run_as: user)"
    write_stream(
        f"enrolled {as_who} at {enrollment.server} as host {enrollment.host_id}"
        + (f" in group {enrollment.group}" if enrollment.group else "")
        + f"\n  agent id {enrollment.agent_id}, shipped as {session.hostname(enrollment.agent_id)!r}"
        + f"\n  host key kept in {collector.path('enrollment.json')} (owner-only)\n"
    )
    if not args.no_check:
        _first_report(settings, env, now, collector)
    return ExitStatus.OK


def _secret(args: Parsed, settings: Settings) -> str:
    import sys

    from clientcheck.collector.shipping import MAX_SECRET_BYTES, read_secret, secret_text

    source = args.secret_file or settings["report.enroll_secret"]
    if source is None:
        raise UsageError(
            "no enrollment secret: give --secret-file FILE (or - to read it from standard input)",
            hint="never on the command line, where every user sees it in ps",
        )
    if source != "-":
        from clientcheck.collector.shipping import exposed

        secret = read_secret(source)
        open_to_others = exposed(source)
        if open_to_others:
            warn(f"the enrollment secret: {open_to_others}")
        return secret
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        return secret_text(getpass.getpass("enrollment secret: ").encode("utf-8"), "the secret typed")
    if sys.stdin is None:
        raise UsageError("--secret-file -: there is no standard input to read the secret from")
    data = sys.stdin.buffer.read(MAX_SECRET_BYTES + 1)
    if len(data) > MAX_SECRET_BYTES:
        raise UsageError("--secret-file -: standard input holds more than an enrollment secret")
    return secret_text(data, "standard input")


def _first_report(settings: Settings, env: Mapping[str, str], now: dt.datetime, collector: Collector) -> None:
    """Judge this machine and spool its report, for the shipper to send after the server's next_check_in."""
    from clientcheck.inspect import inspect_machine
    from clientcheck.judge import judge
    from clientcheck.privacy import Redactor

    try:
        report = Redactor(settings["privacy.home_paths"], env).report(
            judge(inspect_machine(None, None, env), settings, env, now, warn)
        )
        _spool(collector, report, now, None)
        _start_shipper(collector, env, now)
    except ClientcheckError as error:
        warn(f"this machine's first report was not spooled ({error.message}): the next check ships one")
        return
    except Exception as error:  # enrolled all the same: a bug here must not make the enrollment a failure
        warn(f"this machine's first report was not spooled (internal error: {type(error).__name__}: {error})")
        return
    write_stream("  its first report is spooled and goes within a minute ('clientcheck ship' sends it now)\n")


def unenroll(args: Parsed, settings: Settings, env: Mapping[str, str], now: dt.datetime) -> int:
    import os

    from clientcheck.collector import machine_level, plan

    session = _session(settings, env, now)
    collector = session.collector
    if not os.path.isdir(collector.folder):
        write_stream("not enrolled: nothing to remove\n")
        return ExitStatus.OK
    held = collector.lock()
    if held is None:
        raise CollectorError("a shipper is running for this machine right now", hint="try again when it is done")
    try:
        enrollment = collector.enrollment()
        removed = collector.forget()
        collector.log("unenrolled: the host key, the schedule and the spool removed", now)
    finally:
        held.close()
    reports = sum(1 for name in removed if name.startswith("spool/"))
    if enrollment is None and not removed:
        write_stream("not enrolled: nothing to remove\n")
    elif enrollment is None:
        write_stream(f"unenrolled: removed what was left ({reports} spooled report(s))\n")
    else:
        write_stream(
            f"unenrolled: removed the host key of host {enrollment.host_id} at {enrollment.server} and "
            f"{reports} spooled report(s)\n  the collector keeps host {enrollment.host_id} until an admin "
            f"deletes it (clientcheck-server host delete {enrollment.host_id})\n"
        )
    from clientcheck.platforms import this_platform

    again = plan(settings, env, this_platform(), machine=machine_level())
    if again.collector is not None:
        warn(
            "report.server and report.enroll_secret are set "
            f"({settings.origins['report.server']}; {settings.origins['report.enroll_secret']}): "
            "the next check enrolls this machine again; remove them to keep it out"
        )
    return ExitStatus.OK


def ship(args: Parsed, settings: Settings, env: Mapping[str, str], now: dt.datetime) -> int:
    from clientcheck.collector import PATIENCE_SCHEDULED

    session = _session(settings, env, now)
    if args.status:
        write_stream(_status(session, now))
        return ExitStatus.OK
    check_failed: ClientcheckError | None = None
    if args.check:
        try:
            _check_first(settings, env, now)
        except ClientcheckError as error:
            # What is spooled goes all the same (a broken rule source must not hold back a week of reports);
            # the check's own failure is the run's exit status, after shipping.
            check_failed = error
            session.collector.log(f"ship --check: the check failed ({error.message}); shipping what is spooled", now)
            warn(f"the check failed ({error.message}): shipping what is spooled all the same")
    try:
        result = session.run(explicit=not args.scheduled, patience=PATIENCE_SCHEDULED if args.scheduled else 0.0)
    except ClientcheckError as error:
        if check_failed is None:
            raise
        warn(f"ship: {error.message}")
        raise check_failed from None  # shipping never changes a check's exit status
    if args.scheduled:
        nothing_set_up = result.state == "not-enrolled" and session.setup.server is None
        if not nothing_set_up and (result.state not in ("done", "busy", "waiting") or result.sent or result.dropped):
            say(f"clientcheck: ship: {result.message}")
        if check_failed is not None:
            raise check_failed
        return ExitStatus.OK  # the log and `ship --status` say what happened; a timer's unit is not failed
    if check_failed is not None:
        if result.failed:
            warn(f"ship: {result.message}")
        else:
            write_stream(f"{result.message}\n")
        raise check_failed
    if result.failed:
        hint = None
        if result.state == "not-enrolled" and session.collector.run_as == "user":
            hint = "a machine enrolled by root ships from root's runs: sudo clientcheck ship"
        raise CollectorError(f"ship: {result.message}", hint=hint)
    write_stream(f"{result.message}\n")
    return ExitStatus.OK


def _check_first(settings: Settings, env: Mapping[str, str], now: dt.datetime) -> None:
    """``ship --check``: judge this machine and spool its report first (what the machine timers run)."""
    from clientcheck.inspect import inspect_machine
    from clientcheck.judge import judge
    from clientcheck.privacy import Redactor

    report = Redactor(settings["privacy.home_paths"], env).report(
        judge(inspect_machine(None, None, env), settings, env, now, warn)
    )
    unwritten: ClientcheckError | None = None
    if settings["report.sinks"]:
        from clientcheck.commands import write_sinks

        try:
            write_sinks(report, settings["report.sinks"])
        except ClientcheckError as error:  # the report is judged: it is spooled all the same
            unwritten = error
    from clientcheck.collector import machine_level, plan
    from clientcheck.platforms import this_platform

    decided = plan(settings, env, this_platform(), machine=machine_level())
    if decided.warning:
        warn(decided.warning)
    collector = decided.collector
    if collector is not None:
        _spool(collector, report, now, None)
    if unwritten is not None:
        raise unwritten


def _status(session: Session, now: dt.datetime) -> str:
    collector = session.collector
    lines = [f"collector folder: {collector.folder} (run_as: {collector.run_as})"]
    enrollment = collector.enrollment()
    revocation = collector.revocation()
    if enrollment is not None:
        lines.append(
            f"enrolled at {enrollment.server} as host {enrollment.host_id} on {enrollment.enrolled_at}"
            + (f", group {enrollment.group}" if enrollment.group else "")
        )
        lines.append(f"agent id {enrollment.agent_id}, shipped as {session.hostname(enrollment.agent_id)!r}")
    elif revocation is not None:
        lines.append(
            f"removed from the collector: {revocation.get('detail') or 'by an admin'} ({revocation.get('at')})"
        )
        lines.append("not shipping until 'clientcheck enroll' is run again")
    else:
        server = session.setup.server
        lines.append(
            "not enrolled"
            + (f"; report.server is {server}" if server else "")
            + ("; enrolls by itself with report.enroll_secret" if server and session.setup.secret_file else "")
        )
    count, size = collector.spool.size()
    entries = collector.spool.entries()
    oldest = ""
    if entries:
        from clientcheck import dates as dt

        oldest = (
            f", the oldest spooled {dt.datetime.fromtimestamp(entries[0].spooled, dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}"
        )
    lines.append(f"spool: {count} report(s), {size} bytes{oldest}")
    schedule = collector.schedule()
    if schedule.not_before:
        lines.append(f"next contact not before {schedule.not_before} ({schedule.reason or 'scheduled'})")
    if schedule.failures:
        lines.append(f"failed attempts in a row: {schedule.failures}")
    if schedule.last:
        lines.append(f"last: {schedule.last}")
    log = collector.read_log(5)
    if log:
        lines.append("log (newest last):")
        lines += [f"  {line}" for line in log]
    return "\n".join(lines) + "\n"
