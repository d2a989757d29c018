"""``clientcheck login``: the run at each login (``clientcheck.login`` holds its steps). Here it is given the
machine's inspection, the judge, the notifications and the settings in force."""

from __future__ import annotations

from clientcheck.commands import interface_languages, render, spool_after, warn, write_sinks
from clientcheck.errors import ExitStatus

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from clientcheck import dates as dt
    from clientcheck.arguments import Parsed
    from clientcheck.config import Settings
    from clientcheck.login import Notice
    from clientcheck.model import Report


def self_command() -> tuple[str, ...]:
    """The command that runs this clientcheck again, as the login entries run it (the console script or
    launcher beside the interpreter, the frozen program, else ``python -m clientcheck``): what a notice's
    "check again" button and its Linux listener are started with. Fixed: nothing in it comes from data."""
    from clientcheck.autostart import default_command
    from clientcheck.platforms import this_platform

    command = default_command(this_platform())
    return tuple(command[:-1])  # without its "login"


def login(args: Parsed, settings: Settings, env: Mapping[str, str], now: dt.datetime) -> int:
    from clientcheck import dirs
    from clientcheck.errors import OutputError, said
    from clientcheck.login import StateFolder, login
    from clientcheck.platforms import this_platform

    folder = env.get("CLIENTCHECK_STATE_DIR", "").strip() or dirs.user_state_dir(this_platform(), env)
    if folder is None:
        raise OutputError(
            said("login: no state folder: the environment names no home folder"),
            hint=said("run it in the user's session (the autostart entries do), or use check"),
        )

    def judge_machine() -> Report:
        from clientcheck.inspect import inspect_machine
        from clientcheck.judge import judge
        from clientcheck.privacy import Redactor

        inventory = inspect_machine(None, None, env)
        report = judge(inventory, settings, env, now, warn, None, interface_languages(env))
        return Redactor(settings["privacy.home_paths"], env).report(report)

    def show(notice: Notice, previous: Mapping[str, Any] | None) -> tuple[str | None, Mapping[str, Any] | None]:
        from clientcheck.notify import present

        platform = this_platform()
        actions = [
            {"key": action.key, "label": action.label, "uri": action.uri, "argv": action.argv}
            for action in notice.actions
        ]
        if platform == "windows" and _recheck_registered():
            from clientcheck.notify.windows import RECHECK_URI

            for action in actions:
                if action["key"] == "recheck":
                    action["uri"] = RECHECK_URI  # the protocol handler autostart registered runs the check
        # Urgent (a required update owed now, a stepped warning) stays on screen until dismissed.
        return present(
            notice.title,
            notice.body,
            url=notice.url,
            link_label=notice.link_label,
            critical=notice.urgent,
            actions=actions,
            previous=previous,
            command=self_command() if platform == "linux" and actions else None,
            platform=platform,
            env=env,
        )

    def withdraw(handle: Mapping[str, Any]) -> str | None:
        from clientcheck.notify import withdraw

        return withdraw(handle, env=env)

    _, report = login(
        StateFolder(folder),
        settings.values,
        now,
        judge_machine,
        render,
        show,
        warn,
        force=args.force,
        recheck=lambda: (*self_command(), "login", "--force"),
        withdraw=withdraw,
    )
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


def _recheck_registered() -> bool:
    from clientcheck.inspect.interface import recheck_registered
    from clientcheck.inspect.registry import LiveRegistry

    return recheck_registered(LiveRegistry())
