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
import sys

from clientcheck import DATA_DIR
from clientcheck import dates as dt
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import IO, Any

    from clientcheck.model import Finding, Report

_MESSAGES_FILE = os.path.join(DATA_DIR, "login-messages.json")
_SHOWN = 3  # items named in a notification; the rest are counted


class Notice(Record):
    """What the notification says."""

    __slots__ = ("title", "body", "url", "link_label", "urgent")

    title: str
    body: str
    url: str | None  # the full report; the notification layer adds it as a link or a path
    link_label: str
    urgent: bool  # something required is owed now, not only due soon

    def __init__(self, title: str, body: str, url: str | None, link_label: str, urgent: bool) -> None:
        self._set(locals())


def _words(language: str) -> dict[str, str]:
    import json

    with open(_MESSAGES_FILE, encoding="utf-8") as stream:
        catalog: dict[str, Any] = json.load(stream)
    english: dict[str, str] = catalog["en"]
    for tag in (language.lower(), language.lower().split("-")[0]):
        if tag in catalog and not tag.startswith("_"):
            return {**english, **catalog[tag]}
    return english


def _needs_notice(finding: Finding) -> bool:
    return finding.status in ("owed", "unsupported", "restart", "due")


def notice(report: Report, report_link: str | None) -> Notice | None:
    """The notification for ``report``, in its language; None when nothing is owed or due.

    Only what is owed or due makes a notification: the person can act on it. When there is one, it also
    says what may make it incomplete (places that could not be read, expired rules) or wrong (rules dated
    after today: this computer's clock). Rules that fell back are not the person's to fix, and the next
    login tries again: the report says so, the notification does not."""
    findings = [finding for finding in report.findings if _needs_notice(finding)]
    if not findings:
        return None
    words = _words(report.language)
    owed = [finding for finding in findings if finding.status != "due"]
    if owed:
        title = words["title_one"] if len(owed) == 1 else words["title_many"].format(count=len(owed))
    else:
        title = words["title_due"]
    lines = []
    for finding in findings[:_SHOWN]:
        if finding.status == "unsupported":
            what = words["unsupported"]
        elif finding.status == "restart":
            system = finding.product == report.inventory.os.id
            what = words["restart_system" if system else "restart_program"]
        else:
            what = words["to"].format(version=finding.required)
            if finding.status == "due" and finding.deadline:
                # The deadline is the first day it is owed: "before" that day.
                what += " " + words["before"].format(date=finding.deadline.isoformat())
        lines.append(f"• {finding.message} ({finding.name} {finding.installed or ''}".rstrip() + f"): {what}")
    if len(findings) > _SHOWN:
        lines.append(words["more"].format(count=len(findings) - _SHOWN))
    if report.inventory.unreadable:
        lines.append(words["unreadable"])
    if report.rules.stale:
        lines.append(words["rules_stale"].format(date=report.rules.expires.isoformat()))
    if report.rules.published_in_future:
        lines.append(words["clock"].format(date=report.rules.published.isoformat()))
    return Notice(title, "\n".join(lines), report_link, words["open"], urgent=report.blocking)


class StateFolder:
    """The user's clientcheck state: ``last.json``, ``last.html``, ``history/``, and the lock."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _file(self, *names: str) -> str:
        return os.path.join(self.path, *names)

    def ensure(self) -> list[str]:
        """Make the folder owner-only, or check and repair the one there (``folders.own_folder``: refused,
        with ``FolderError``, when it is not the user's). Returns what was repaired, to be said."""
        from clientcheck.folders import own_folder, state_file

        # Owner-only: reports say what is out of date on this account's machine, and what is in here
        # decides whether the next login runs (last-complete) and what the notification opens (last.html).
        notes = own_folder(self.path, "state folder", ours=state_file, subfolders=("history",))
        if notes:
            # The folder was open to others: they may hold the lock file open (a lock needs only a read),
            # and so stop every run. A new lock file is free.
            try:
                os.unlink(self._file("login.lock"))
                notes.append(f"replaced {self._file('login.lock')}: others may have held it")
            except FileNotFoundError:
                pass
            except OSError as error:
                from clientcheck.errors import OutputError

                raise OutputError(f"cannot replace {self._file('login.lock')}: {error.strerror or error}") from None
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

    def mark_complete(self) -> None:
        """Note that a run did all it had to (the rules it was told to use, the person told): the next
        login within ``login.interval`` may skip. A run that fell back (no network yet at login) or could
        not show its notification is not marked, so the next login tries again."""
        from clientcheck.deliver import write_atomic

        write_atomic(self._file("last-complete"), "", mode=0o600)

    def lock(self) -> IO[bytes] | None:
        """Hold the per-user lock for as long as the returned file is open; None if another run holds it.

        The operating system drops the lock when its holder exits, however it exits, so a crashed run
        cannot leave it stuck (unlike a lock file whose existence is the lock)."""
        from clientcheck.errors import OutputError

        try:
            # Owner-only like everything in the folder; held open (and locked) for the whole run.
            descriptor = os.open(self._file("login.lock"), os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
            stream = os.fdopen(descriptor, "r+b")
        except OSError as error:
            raise OutputError(
                f"cannot open the lock {self._file('login.lock')}: {error.strerror or error}",
                hint=f"the state folder {self.path} must belong to the user running clientcheck",
            ) from None
        try:
            if sys.platform == "win32":
                import msvcrt

                stream.seek(0)
                msvcrt.locking(stream.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            stream.close()
            return None
        return stream

    def record(self, report: Report, json_text: str, html_text: str, keep: int) -> str:
        """Write the report (owner-only, atomically) and prune the history to ``keep``; the HTML's path."""
        from clientcheck.deliver import write_atomic

        stamp = report.generated_at.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        if keep > 0:
            write_atomic(self._file("history", f"{stamp}.json"), json_text, mode=0o600)
        html_path = self._file("last.html")
        write_atomic(html_path, html_text, mode=0o600)
        write_atomic(self._file("last.json"), json_text, mode=0o600)  # last: its time is the last run's
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
    from urllib.parse import quote

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
    notify: Callable[[Notice], str | None],
    warn: Callable[[str], None],
    *,
    force: bool = False,
    sleep: Callable[[float], None] | None = None,
    fraction: Callable[[], float] = random_fraction,
) -> tuple[LoginRun, Report | None]:
    """One login run; ``judge`` inspects and evaluates, ``notify`` shows a notice (None when shown)."""
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
        if settings["login.notify"] and any(_needs_notice(finding) for finding in report.findings):
            message = notice(report, file_link(html_path))
            reason = notify(message) if message is not None else None
            notified = "shown" if reason is None else reason
            if reason is not None:
                warn(f"could not show the notification: {reason}")
                complete = False
        if complete:
            state.mark_complete()
        return LoginRun(report.status, False, waited, notified, html_path), report
    finally:
        held.close()
