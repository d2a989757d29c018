"""``clientcheck login``: the run at each login (``clientcheck.login`` holds its steps). Here it is given the
machine's inspection, the judge, the notifications and the settings in force."""

from __future__ import annotations

from clientcheck.commands import render, spool_after, warn, write_sinks
from clientcheck.errors import ExitStatus

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck import dates as dt
    from clientcheck.arguments import Parsed
    from clientcheck.config import Settings
    from clientcheck.login import Notice
    from clientcheck.model import Report


def login(args: Parsed, settings: Settings, env: Mapping[str, str], now: dt.datetime) -> int:
    from clientcheck import dirs
    from clientcheck.errors import OutputError
    from clientcheck.login import StateFolder, login
    from clientcheck.platforms import this_platform

    folder = env.get("CLIENTCHECK_STATE_DIR", "").strip() or dirs.user_state_dir(this_platform(), env)
    if folder is None:
        raise OutputError(
            "login: no state folder: the environment names no home folder",
            hint="run it in the user's session (the autostart entries do), or use check",
        )

    def judge_machine() -> Report:
        from clientcheck.inspect import inspect_machine
        from clientcheck.judge import judge
        from clientcheck.privacy import Redactor

        inventory = inspect_machine(None, None, env)
        return Redactor(settings["privacy.home_paths"], env).report(judge(inventory, settings, env, now, warn))

    def show(notice: Notice) -> str | None:
        from clientcheck.notify import notify

        # Urgent (a required update owed now) stays on screen until dismissed; "due soon" does not.
        return notify(
            notice.title, notice.body, url=notice.url, link_label=notice.link_label, critical=notice.urgent, env=env
        )

    _, report = login(StateFolder(folder), settings.values, now, judge_machine, render, show, warn, force=args.force)
    if report is None:
        return ExitStatus.OK
    if settings["report.sinks"]:
        write_sinks(report, settings["report.sinks"])  # login is often the only run: the fleet's copy too
    from clientcheck.collector import machine_level

    if not machine_level():
        # A person's login run ships only their own install's reports (a user who enrolled it); the
        # machine's are shipped by the machine-level run.
        spool_after(report, settings, env, now)
    return ExitStatus.OWED if report.blocking else ExitStatus.OK
