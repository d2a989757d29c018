"""``clientcheck login``: the run at each login. Quiet when all is well; one notification when not.

In order: take the per-user lock (a second run at the same time leaves at once), skip if the last run is
recent enough, wait a random part of the configured delay (a thousand machines logging in at 9:00 must
not fetch the rules together), judge, record the report in the user's state folder (the last one as JSON
and HTML, and a short history), and tell the person when something is owed. Nothing here fails because
there is no display, session bus or console: the notification layer reports why it could not show
anything, and that becomes a warning.
"""

from __future__ import annotations

import os

from clientcheck import dates as dt
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import IO, Any

    from clientcheck.model import Finding, Report

_SHOWN = 3  # items named in a notification; the rest are counted
_FIX_ACTIONS = 2  # buttons that start an update; with "check again", three: what every server shows


class NoticeAction(Record):
    """A button of the notification: ``uri`` opened, or ``argv`` started (a fixed program and its
    arguments, never a command line built from data), by the notification layer."""

    __slots__ = ("key", "label", "uri", "argv")

    key: str  # the action's id on the bus: "fix-0", "fix-1", "recheck"
    label: str  # in the person's language
    uri: str | None
    argv: tuple[str, ...] | None

    def __init__(self, key: str, label: str, uri: str | None = None, argv: tuple[str, ...] | None = None) -> None:
        self._set(locals())


class Notice(Record):
    """What the notification says, and the buttons it offers."""

    __slots__ = ("title", "body", "url", "link_label", "urgent", "actions")

    title: str
    body: str
    url: str | None  # the full report; the notification layer adds it as a link or a path
    link_label: str
    urgent: bool  # something required is owed now, or due at a stepped rule's warning
    actions: tuple[NoticeAction, ...]

    def __init__(
        self,
        title: str,
        body: str,
        url: str | None,
        link_label: str,
        urgent: bool,
        actions: tuple[NoticeAction, ...] = (),
    ) -> None:
        self._set(locals())


def needs_notice(finding: Finding) -> bool:
    """Whether the person is told of ``finding`` at login: what is owed or waits for a restart, and what is
    due, unless its rule's steps keep it quiet for now (in the reports only)."""
    if finding.status == "due":
        return finding.step != "quiet"
    return finding.status in ("owed", "unsupported", "restart")


def notice(
    report: Report, report_link: str | None, recheck: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None
) -> Notice | None:
    """The notification for ``report``, in its language; None when nothing is to be said.

    Only what is owed or due makes a notification: the person can act on it. When there is one, it also
    says what may make it incomplete (places that could not be read, expired rules) or wrong (rules dated
    after today: this computer's clock). Rules that fell back are not the person's to fix, and the next
    login tries again: the report says so, the notification does not.

    Its buttons: the actions that start the updates named (from the catalog), and, given the command that
    runs a login check (``recheck``), one that checks again."""
    from clientcheck.i18n import translation
    from clientcheck.render.words import deadline_phrase

    findings = [finding for finding in report.findings if needs_notice(finding)]
    if not findings:
        return None
    t = translation(report.language)
    owed = [finding for finding in findings if finding.status != "due"]
    warned = [finding.days_left for finding in findings if finding.step == "warning" and finding.days_left]
    if owed:
        title = t.ngettext("{count} update owed on this computer", "{count} updates owed on this computer", len(owed))
    elif warned:
        title = t.ngettext(
            "Updates due on this computer: {count} day left",
            "Updates due on this computer: {count} days left",
            min(warned),
        )
    else:
        title = t.gettext("Updates due soon on this computer")
    lines = []
    for finding in findings[:_SHOWN]:
        if finding.status == "unsupported":
            what = t.gettext("out of support: upgrade or replace")
        elif finding.status == "restart":
            system = finding.product == report.inventory.os.id
            if system:
                what = t.gettext("restart the computer to finish the updates")
            else:
                what = t.gettext("close and reopen it to finish the update")
        else:
            what = t.gettext("update to {version}", version=finding.required)
            deadline = deadline_phrase(finding, report.as_of, t)
            if finding.status == "due" and deadline:
                # Translators: a notice's line: what to do ("update to 156.0"), then when it is owed
                # ("owed from 9 December: 8 days left").
                what = t.gettext("{what}, {deadline}", what=what, deadline=deadline)
        lines.append(f"• {finding.message} ({finding.name} {finding.installed or ''}".rstrip() + f"): {what}")
    if len(findings) > _SHOWN:
        lines.append(t.ngettext("and {count} more", "and {count} more", len(findings) - _SHOWN))
    if report.inventory.unreadable:
        lines.append(t.gettext("Some places on this computer could not be checked: the full report says which"))
    if report.rules.stale:
        lines.append(
            t.gettext(
                "The rules used expired on {date}: newer updates may be needed", date=t.date(report.rules.expires)
            )
        )
    if report.rules.published_in_future:
        lines.append(
            t.gettext(
                "The rules are dated {date}, after today: this computer's clock may be wrong",
                date=t.date(report.rules.published),
            )
        )
    actions: list[NoticeAction] = []
    for fix in dict.fromkeys(finding.fix for finding in findings if finding.fix is not None):
        if len(actions) == _FIX_ACTIONS:
            break
        label = t.gettext(fix.label, name=t.gettext(fix.name))
        actions.append(NoticeAction(f"fix-{len(actions)}", label, uri=fix.uri, argv=fix.argv))
    command = recheck() if callable(recheck) else recheck
    if command:
        # Translators: a notification's button: run the check again (after updating).
        actions.append(NoticeAction("recheck", t.gettext("Check again"), argv=command))
    urgent = report.blocking or bool(warned)
    link_label = t.gettext("Open the full report")
    return Notice(title, "\n".join(lines), report_link, link_label, urgent=urgent, actions=tuple(actions))


class StateFolder:
    """The user's clientcheck state: ``last.json``, ``last.html``, ``history/``, and the lock."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _file(self, *names: str) -> str:
        return os.path.join(self.path, *names)

    def ensure(self) -> list[str]:
        """Make the folder owner-only, or check and repair the one there (``folders.own_folder``: refused,
        with ``FolderError``, when it is not the user's). Returns what was repaired, to be said."""
        from clientcheck.folders import free_lock, own_folder, state_file

        # Owner-only: reports say what is out of date on this account's machine, and what is in here
        # decides whether the next login runs (last-complete) and what the notification opens (last.html).
        notes = own_folder(self.path, "state folder", ours=state_file, subfolders=("history",))
        free_lock(self._file("login.lock"), notes)
        return notes

    def last_run(self) -> float | None:
        """When the last complete run ended (seconds since the epoch), if there was one."""
        import stat

        try:
            info = os.lstat(self._file("last-complete"))
        except OSError:
            return None
        # Only a file of our own (ensure removed anyone else's); never the time of what a link points at.
        return info.st_mtime if stat.S_ISREG(info.st_mode) else None

    def notice_handle(self) -> dict[str, Any] | None:
        """What the last notice shown left to take it back by (``notify.present``'s handle), if any."""
        from clientcheck.cjson import loads

        try:
            with open(self._file("notice.json"), "rb") as stream:
                handle = loads(stream.read(64 * 1024).decode("utf-8"))
        except (OSError, ValueError):
            return None
        return handle if isinstance(handle, dict) else None

    def keep_notice(self, handle: Mapping[str, Any] | None) -> None:
        """Remember the notice shown (or that there is none to take back)."""
        from clientcheck.cjson import dumps_compact
        from clientcheck.deliver import write_atomic

        if handle is None:
            self.forget_notice()
        else:
            write_atomic(self._file("notice.json"), dumps_compact(dict(handle)) + "\n", mode=0o600, durable=False)

    def forget_notice(self) -> None:
        try:
            os.unlink(self._file("notice.json"))
        except FileNotFoundError:
            pass

    def mark_complete(self) -> None:
        """Note that a run did all it had to (the rules it was told to use, the person told): the next
        login within ``login.interval`` may skip. A run that fell back (no network yet at login) or could
        not show its notification is not marked, so the next login tries again."""
        from clientcheck.deliver import write_atomic

        write_atomic(self._file("last-complete"), "", mode=0o600, durable=False)

    def lock(self) -> IO[bytes] | None:
        """Hold the per-user lock for as long as the returned file is open; None if another run holds it
        (``folders.hold_lock``: dropped by the OS when its holder exits, however it exits)."""
        from clientcheck.errors import OutputError
        from clientcheck.folders import hold_lock

        try:
            # Owner-only like everything in the folder; held open (and locked) for the whole run.
            return hold_lock(self._file("login.lock"))
        except OSError as error:
            raise OutputError(
                f"cannot open the lock {self._file('login.lock')}: {error.strerror or error}",
                hint=f"the state folder {self.path} must belong to the user running clientcheck",
            ) from None

    def record(self, report: Report, json_text: str, html_text: str, keep: int) -> str:
        """Write the report (owner-only, atomically) and prune the history to ``keep``; the HTML's path."""
        from clientcheck.deliver import write_atomic

        stamp = report.generated_at.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        if keep > 0:
            write_atomic(self._file("history", f"{stamp}.json"), json_text, mode=0o600)
        # last.html and last.json are this run's, made again by the next: not worth a wait for the disk. The
        # history entry is the record a later look-back reads: it keeps its fsyncs.
        html_path = self._file("last.html")
        write_atomic(html_path, html_text, mode=0o600, durable=False)
        write_atomic(self._file("last.json"), json_text, mode=0o600, durable=False)  # last: its time is the run's
        self._prune(keep)
        return html_path

    def _prune(self, keep: int) -> None:
        """Keep the ``keep`` newest reports, by when they were written (a name from a clock that was once
        set ahead must not outlive every later report), and drop what crashed writes left."""
        folder = self._file("history")
        reports: list[tuple[float, str]] = []
        try:
            for entry in os.scandir(folder):
                if entry.name.endswith(".json") or entry.name.endswith(".tmp"):
                    reports.append((entry.stat().st_mtime, entry.name))
        except OSError:
            return
        reports.sort()
        leftovers = [name for _, name in reports if name.endswith(".tmp")]
        reports = [item for item in reports if item[1].endswith(".json")]
        for name in [name for _, name in reports[: max(0, len(reports) - keep)]] + leftovers:
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass  # gone already, or not ours to remove: the next run tries again


def file_link(path: str) -> str:
    """A file:// URL for a local path, as notification servers and browsers open it."""
    from clientcheck.percent import quote

    if os.name == "nt" or (len(path) > 2 and path[1] == ":"):
        return "file:///" + quote(path.replace("\\", "/"), safe="/:")
    return "file://" + quote(path, safe="/")


def random_fraction() -> float:
    """A uniform number in [0, 1) from the OS (``random`` would be one more import for one number)."""
    return int.from_bytes(os.urandom(4), "big") / 2**32


class LoginRun(Record):
    """What happened, for the caller's exit status and for tests."""

    __slots__ = ("status", "skipped", "waited", "notified", "report_path")

    status: str  # "skipped-recent", "skipped-running", or the report's summary status
    skipped: bool
    waited: float
    notified: str | None  # None: no notification needed; "shown"; or why it was not shown
    report_path: str | None

    def __init__(
        self, status: str, skipped: bool, waited: float, notified: str | None, report_path: str | None
    ) -> None:
        self._set(locals())


def login(
    state: StateFolder,
    settings: Mapping[str, Any],
    now: dt.datetime,
    judge: Callable[[], Report],
    render: Callable[[Report, str], str],
    notify: Callable[[Notice, Mapping[str, Any] | None], tuple[str | None, Mapping[str, Any] | None]],
    warn: Callable[[str], None],
    *,
    force: bool = False,
    sleep: Callable[[float], None] | None = None,
    fraction: Callable[[], float] = random_fraction,
    recheck: Callable[[], tuple[str, ...]] | None = None,
    withdraw: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> tuple[LoginRun, Report | None]:
    """One login run; ``judge`` inspects and evaluates, ``notify`` shows a notice in place of the one an
    earlier run showed (given its handle): (None, the new handle) when shown, else (why not, None).
    ``recheck`` is the command that runs a login check now (a button of the notice); ``withdraw`` takes
    back an earlier notice that is no longer true."""
    for note in state.ensure():
        warn(note)
    held = state.lock()
    if held is None:
        return LoginRun("skipped-running", True, 0.0, None, None), None
    try:
        last = state.last_run()
        interval = settings["login.interval"]
        # A last run far in the future (the clock was set back) must not silence every run until then.
        if not force and last is not None and -interval < now.timestamp() - last < interval:
            return LoginRun("skipped-recent", True, 0.0, None, None), None
        waited = 0.0 if force else settings["login.delay"] * fraction()
        if waited > 0:
            if sleep is None:
                import time

                sleep = time.sleep
            sleep(waited)
        report = judge()
        html_path = state.record(report, render(report, "json"), render(report, "html"), settings["login.history"])
        notified: str | None = None
        complete = report.rules.fallback_reason is None
        previous = state.notice_handle()
        message = notice(report, file_link(html_path), recheck) if settings["login.notify"] else None
        if message is not None:
            reason, handle = notify(message, previous)
            notified = "shown" if reason is None else reason
            if reason is not None:
                warn(f"could not show the notification: {reason}")
                complete = False
            elif handle is not None or previous is not None:
                state.keep_notice(handle)
        elif previous is not None:
            # The notice an earlier run showed is no longer true (updated, or no longer to be said): taken back.
            failed = withdraw(previous) if withdraw is not None else None
            if failed is not None:
                warn(f"could not withdraw the earlier notification: {failed}")
            state.forget_notice()
        if complete:
            state.mark_complete()
        return LoginRun(report.status, False, waited, notified, html_path), report
    finally:
        held.close()
