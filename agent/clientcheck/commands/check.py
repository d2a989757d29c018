"""``clientcheck check`` (inspect, judge, report: the default command) and ``clientcheck inventory``
(inspect and show what was found, without rules)."""

from __future__ import annotations

from clientcheck.commands import emit, interface_languages, render, spool_after, warn, write_sinks
from clientcheck.errors import ExitStatus, UsageError, said

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck import dates as dt
    from clientcheck.arguments import Parsed
    from clientcheck.commands import Protocol
    from clientcheck.config import Settings
    from clientcheck.model import Inventory


def _inspect(args: Parsed, env: Mapping[str, str]) -> Inventory:
    from clientcheck.inspect import inspect_machine

    platform = args.platform or ("windows" if args.registry else None)
    if platform and args.root is None and args.registry is None:
        raise UsageError(
            said("--platform needs --root (or --registry): only the running machine can be inspected live")
        )
    return inspect_machine(platform, args.root, env, registry=args.registry)


def check(args: Parsed, settings: Settings, env: Mapping[str, str], now: dt.datetime, protocol: Protocol) -> int:
    from clientcheck.judge import judge
    from clientcheck.privacy import Redactor

    inventory = _inspect(args, env)
    report = judge(inventory, settings, env, now, warn, args.as_of, interface_languages(env))
    report = Redactor(settings["privacy.home_paths"], env).report(report)
    this_machine_today = args.root is None and args.registry is None and args.as_of is None
    if settings["report.sinks"]:
        if not this_machine_today:
            # The sinks are this machine's record for the fleet: a captured machine or a pretend date is not.
            warn("report.sinks not written: this run judges a captured machine or another day")
        else:
            write_sinks(report, settings["report.sinks"])
    text = render(report, settings["report.format"])
    emit(text, settings["report.output"])
    verdict = protocol.verdict(report)
    if this_machine_today:
        # After the output, and whatever happens there, the verdict stands: shipping never changes it.
        spool_after(report, settings, env, now, json_text=text if settings["report.format"] == "json" else None)
    return verdict


def inventory(args: Parsed, settings: Settings, env: Mapping[str, str], now: dt.datetime) -> int:
    from clientcheck.privacy import Redactor
    from clientcheck.render import inventory_renderer

    found = Redactor(settings["privacy.home_paths"], env).inventory(_inspect(args, env))
    # The configured format is check's: inventory has its own default, text.
    emit(inventory_renderer(args.format or "text")(found, now), args.output)
    return ExitStatus.OK
