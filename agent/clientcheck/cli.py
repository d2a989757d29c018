"""The command line: its commands and options, and ``main``, the one place where errors become exit
statuses and one-line messages. What each command does is in ``commands/``."""

from __future__ import annotations

import gc
import os
import sys

from clientcheck import __version__
from clientcheck import dates as dt
from clientcheck.arguments import Command, HelpRequested, Option, Parsed, Parser, dest_of
from clientcheck.commands import protocol_of, say, speak_english, speak_in, speaking, speaking_language, spoken, warn
from clientcheck.config.table import FORMATS, SETTINGS, over_maximum, parse_duration
from clientcheck.deliver import write_stream
from clientcheck.errors import ClientcheckError, ExitStatus, said
from clientcheck.model import PLATFORMS
from clientcheck.platforms import this_platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from clientcheck.commands import Protocol
    from clientcheck.config import Places, Settings
    from clientcheck.i18n import Translation


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(said("{text!r} is not a date (YYYY-MM-DD)", text=text)) from None


def _key(text: str) -> str:
    # An empty key (a variable in a fleet script that was never filled in) must not mean "no key".
    if not text.strip():
        raise ValueError("is empty: an empty key would turn signature checks off; give the key or leave it out")
    return text


_INSPECT_OPTIONS = (
    Option(
        ("--root",), "inspect the machine whose file tree is at DIR (a mounted disk or captured tree)", metavar="DIR"
    ),
    Option(("--platform",), "the OS of the --root tree (default: told from its files)", choices=PLATFORMS),
    Option(
        ("--registry",),
        "read this Windows registry export (regedit's .reg) instead of the live registry; implies --platform windows",
        metavar="FILE.reg",
    ),
    Option(("-f", "--format"), "output format (default: text)", choices=FORMATS),
    Option(
        ("-o", "--output"),
        "write to FILE instead of standard output (a file is replaced atomically; a device, a FIFO or "
        "/dev/stdout is written in place; a link, where it leads)",
        metavar="FILE",
    ),
    Option(
        ("--config",),
        "read settings from FILE instead of the user's config.toml (also CLIENTCHECK_CONFIG)",
        metavar="FILE",
    ),
)
_JUDGE_OPTIONS = (
    Option(("--rules",), "rule file or https:// URL to judge by (default: the bundled rules)", metavar="FILE|URL"),
    Option(
        ("--rules-key",),
        "the publisher's minisign public key (as minisign prints it, or a .pub file): "
        "rules must then carry a valid .minisig",
        metavar="KEY",
        convert=_key,
    ),
    Option(
        ("--ca-bundle",),
        "trust the CA certificates in this PEM file (instead of the system's) for fetching rules",
        metavar="FILE",
    ),
    Option(
        ("--lang",),
        "language of messages, like de or pt-BR (default: from LANGUAGE, LC_ALL, LC_MESSAGES, LANG)",
        metavar="TAG",
    ),
    Option(
        ("--as-of",), "judge as if today were DATE (YYYY-MM-DD), to preview deadlines", metavar="DATE", convert=_date
    ),
)


def _duration(text: str) -> int:
    seconds = parse_duration(text)
    shown = text if len(text) <= 40 else f"{text[:30]}…"
    if seconds is None:
        raise ValueError(f"{shown!r} is not a duration (like 30s, 15m, 4h or seconds)")
    too_large = over_maximum("login.delay", seconds)  # the one duration option
    if too_large:
        raise ValueError(f"{too_large}, got {shown!r}")
    return seconds


_LOGIN_OPTIONS = (
    Option(
        ("--delay",),
        "wait a random time up to DURATION first (default: login.delay, 10s)",
        metavar="DURATION",
        convert=_duration,
    ),
    Option(("--force",), "run now: no random wait, even if the last run was recent", flag=True, default=False),
    Option(("--config",), "read settings from FILE instead of the user's config.toml", metavar="FILE"),
)


_CONFIG_OPTION = Option(("--config",), "read settings from FILE instead of the user's config.toml", metavar="FILE")

_AUTOSTART_OPTIONS = (
    Option(("--system",), "for every user of the machine (needs root or an administrator)", flag=True, default=False),
    Option(
        ("--method",),
        "Linux: xdg (autostart entry), systemd (user timer), or auto: the entry, plus the timer for long "
        "sessions where systemd runs (default)",
        choices=("auto", "xdg", "systemd"),
    ),
)


def build_parser() -> Parser:
    return Parser(
        prog="clientcheck",
        description="Check this computer's OS, web browsers and PDF viewers against a minimum-version rule "
        "file, and say which updates are owed.",
        commands=(
            Command("check", "inspect, judge by the rules, report what is owed", _INSPECT_OPTIONS + _JUDGE_OPTIONS),
            Command("inventory", "show the OS, browsers and PDF viewers found, without judging", _INSPECT_OPTIONS),
            Command(
                "login",
                "the run at login: judge, record the report, and notify the person when something is owed",
                _LOGIN_OPTIONS + _JUDGE_OPTIONS[:4],
            ),
            Command(
                "autostart",
                "run 'clientcheck login' at every login, for you or (--system) for every user",
                subcommands=tuple(
                    Command(action, summary, _AUTOSTART_OPTIONS)
                    for action, summary in (
                        ("install", "put the login entries in place (again: brings them up to date)"),
                        ("uninstall", "remove the login entries clientcheck wrote, and nothing else"),
                        ("status", "each entry: where it is, and whether it is installed and up to date"),
                    )
                ),
            ),
            Command(
                "enroll",
                "join the fleet collector (clientcheck-server) at URL: as root, this machine; else your own "
                "install. Then its reports are shipped",
                (
                    Option(
                        ("--secret-file",),
                        "the enrollment secret, from FILE (- reads standard input, or asks on a terminal); "
                        "default: report.enroll_secret. Never on the command line, where ps shows it",
                        metavar="FILE",
                    ),
                    Option(
                        ("--ca-bundle",),
                        "trust the CA certificates in this PEM file for the collector (kept with the enrollment)",
                        metavar="FILE",
                        dest="server_ca_bundle",
                    ),
                    Option(
                        ("--no-check",),
                        "only enroll: do not judge this machine and spool its first report",
                        flag=True,
                        default=False,
                    ),
                    _CONFIG_OPTION,
                ),
                positionals=(("URL", "the collector's address, like https://fleet.example.com:8765"),),
            ),
            Command(
                "unenroll",
                "leave the collector: remove the host key and the spooled reports (the server keeps the host "
                "until an admin deletes it)",
                (_CONFIG_OPTION,),
            ),
            Command(
                "ship",
                "send the spooled reports to the collector now, oldest first",
                (
                    Option(
                        ("--scheduled",),
                        "as the machine timer and a check's detached shipper do: only when due (the server's "
                        "next check-in, its Retry-After, the backoff), waiting through a short wait",
                        flag=True,
                        default=False,
                    ),
                    Option(
                        ("--check",),
                        "judge this machine first and spool its report (what the machine timers run)",
                        flag=True,
                        default=False,
                    ),
                    Option(
                        ("--status",),
                        "say what is enrolled, spooled and scheduled, and send nothing",
                        flag=True,
                        default=False,
                    ),
                    _CONFIG_OPTION,
                ),
            ),
            Command(
                "config",
                "show the settings in force",
                subcommands=(
                    Command(
                        "show",
                        "print every setting, its value and where it came from (managed policy, command line, "
                        "environment, user or machine config.toml, default)",
                        (
                            Option(
                                ("-f", "--format"),
                                "text (a config.toml) or json",
                                choices=("text", "json"),
                                dest="show_format",
                            ),
                            Option(("--config",), "read FILE instead of the user's config.toml", metavar="FILE"),
                        ),
                    ),
                ),
            ),
            Command(
                "notice-listener",
                "stay with a notification to act on its buttons (started by login, on Linux)",
                hidden=True,
            ),
            Command(
                "rules",
                "work with rule files",
                subcommands=(
                    Command(
                        "validate",
                        "check a rule file and list every problem with its location",
                        positionals=(("FILE", "the rule file to check"),),
                    ),
                    Command(
                        "keygen",
                        "make a minisign key pair for signing rule files",
                        (
                            Option(
                                ("--public",),
                                "where to write the public key",
                                metavar="FILE",
                                default="clientcheck.pub",
                            ),
                            Option(
                                ("--secret",),
                                "where to write the secret key (owner-only)",
                                metavar="FILE",
                                default="clientcheck.key",
                            ),
                            Option(("--force",), "replace existing key files", flag=True, default=False),
                        ),
                    ),
                    Command(
                        "sign",
                        "check a rule file, then sign it: writes FILE.minisig, as minisign -S does",
                        (
                            Option(
                                ("--secret",),
                                "the minisign secret key (password from CLIENTCHECK_KEY_PASSWORD, or asked for)",
                                metavar="FILE",
                                default="clientcheck.key",
                            ),
                            Option(
                                ("--trusted-comment",),
                                "the signed comment (default: timestamp and file name, as minisign writes)",
                                metavar="TEXT",
                            ),
                        ),
                        positionals=(("FILE", "the rule file to sign"),),
                    ),
                    Command(
                        "generate",
                        "build a rule file from the vendors' feeds (Mozilla, Chrome, Edge, endoflife.date) as a "
                        "policy file says",
                        (
                            Option(("--policy",), "the policy (see rules/policy.example.json)", metavar="FILE"),
                            Option(
                                ("--previous",),
                                "the rule file it replaces: serial + 1, grace periods kept, no minimum lowered",
                                metavar="FILE",
                            ),
                            Option(("-o", "--output"), "write the rule file to FILE (atomically)", metavar="FILE"),
                        ),
                    ),
                    Command(
                        "export",
                        "turn a rule file into another tool's rules: --intune gives Intune custom compliance rules",
                        (
                            Option(
                                ("--intune",),
                                "Intune custom compliance rules JSON (Version settings, "
                                "remediation strings in every language the rules have)",
                                flag=True,
                                default=False,
                            ),
                            Option(("--rules",), "the rule file (default: the bundled rules)", metavar="FILE"),
                            Option(
                                ("--products",),
                                "only these product ids, comma-separated (e.g. windows,edge,chrome,acrobat-reader "
                                "for a Windows fleet; default: every product the rules name)",
                                metavar="IDS",
                            ),
                            Option(("-o", "--output"), "write to FILE (atomically)", metavar="FILE"),
                        ),
                    ),
                    Command(
                        "verify",
                        "check FILE.minisig against a public key, as the agent will",
                        (Option(("--key",), "the public key (as minisign prints it, or a .pub file)", metavar="KEY"),),
                        positionals=(("FILE", "the signed rule file"),),
                    ),
                ),
            ),
        ),
        default="check",
        version=f"clientcheck {__version__}",
        epilog="Exit status: 0 nothing owed, 1 updates owed, 2 usage error, 3 invalid or no usable rules, "
        "4 cannot read what to inspect, 5 cannot write the output, 6 the collector could not be reached or refused "
        "(enroll, ship), 70 internal error, 78 invalid configuration.",
    )


def _settings(args: Parsed, env: Mapping[str, str], places: Places | None) -> tuple[Settings, Places]:
    from clientcheck.config import default_places, load_settings

    platform = this_platform()
    config_file = args.values.get("config")
    if places is None:
        registry = None
        if platform == "windows":  # where the policy keys are read
            from clientcheck.inspect.registry import LiveRegistry

            registry = LiveRegistry()
        places = default_places(platform, env, config_file, registry)
    elif config_file:
        places = places.replace(user=config_file)
    settings = load_settings(
        platform,
        env,
        given_options(args),
        places,
        user_file_required=bool(config_file or env.get("CLIENTCHECK_CONFIG")),
    )
    for note in settings.notes:
        warn(note)
    return settings, places


def given_options(args: Parsed) -> dict[str, Any]:
    """The settings this command line gave, by option (``{"--rules": …}``)."""
    given: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.option is not None and args.values.get(dest_of(setting.option)) is not None:
            given[setting.option] = args.values[dest_of(setting.option)]
    return given


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
    places: Places | None = None,
) -> int:
    """Run the command line; returns the exit status. No exception reaches the caller.

    The one place that reads the process's environment and the clock (unless they are given: tests give
    their own), and the one place errors become messages and exit statuses, as the run's ``Protocol``
    says: decided from the command line (and the environment) until the settings are read, then from the
    format in force."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    protocol = _protocol(arguments, None, env)
    speak_english()
    spoken_in: list[str | None] = [_asked_language(arguments, env)]  # until the settings are read
    try:
        try:
            args = build_parser().parse(arguments)
        except HelpRequested as help_:
            write_stream(help_.text)
            return ExitStatus.OK
        protocol = _protocol(arguments, args, env)
        # In the machine's own time zone: its date is the person's "today" (deadlines, "8 days left").
        now = now or dt.datetime.now(dt.timezone.utc).astimezone()
        if args.command[0] == "rules":
            from clientcheck.commands.rules import rules

            return rules(args, env, now)
        if args.command[0] == "notice-listener":
            from clientcheck.notify.listener import main as listen

            return listen(env)
        if args.command[0] == "autostart":
            from clientcheck.commands.autostart import autostart

            return autostart(args, env)
        settings, places = _settings(args, env, places)
        spoken_in[0] = settings["report.language"]
        speak_in(spoken_in[0], env)  # warnings from here on in the person's language
        if args.command == ("check",):
            from clientcheck.commands.check import check

            protocol = protocol_of(settings["report.format"])  # decided: the settings are read

            return check(args, settings, env, now, protocol)
        if args.command == ("inventory",):
            from clientcheck.commands.check import inventory

            return inventory(args, settings, env, now)
        if args.command == ("login",):
            from clientcheck.commands.login import login

            return login(args, settings, env, now)
        if args.command[0] in ("enroll", "unenroll", "ship"):
            from clientcheck.commands import collector

            command = {"enroll": collector.enroll, "unenroll": collector.unenroll, "ship": collector.ship}
            return command[args.command[0]](args, settings, env, now)
        from clientcheck.commands.config import show

        return show(args, settings, places)
    except ClientcheckError as error:
        t = _errors_language(spoken_in[0], env)
        say(t.gettext("clientcheck: error: {message}", message=spoken(error.message, t)))
        if error.hint:
            say(t.gettext("clientcheck: hint: {hint}", hint=spoken(error.hint, t)))
        return protocol.failed(error.message, int(error.exit_status))
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the one place a bug becomes a message, not a traceback
        t = _errors_language(spoken_in[0], env)
        what = f"{type(error).__name__}: {error}"
        say(t.gettext("clientcheck: internal error: {error}", error=what))
        say(
            t.gettext(
                "clientcheck: hint: {hint}", hint=t.gettext("please report this, with CLIENTCHECK_DEBUG=1 output")
            )
        )
        if env.get("CLIENTCHECK_DEBUG") and sys.stderr is not None:
            import traceback

            traceback.print_exc()
        return protocol.failed(f"internal error: {type(error).__name__}", ExitStatus.INTERNAL)


def _asked_language(arguments: Sequence[str], env: Mapping[str, str]) -> str | None:
    """The language asked for before the settings are read: --lang (the last one counts, as when parsed),
    else CLIENTCHECK_REPORT_LANGUAGE."""
    asked = None
    for index, arg in enumerate(arguments):
        if arg == "--lang" and index + 1 < len(arguments):
            asked = arguments[index + 1]
        elif arg.startswith("--lang="):
            asked = arg.partition("=")[2]
    return asked or env.get("CLIENTCHECK_REPORT_LANGUAGE") or None


def _errors_language(asked: str | None, env: Mapping[str, str]) -> Translation:
    """The language an error is said in: the run's, once known; else worked out now, without a warning."""
    if speaking_language() == "en" and (asked or _any_locale(env)):
        try:
            speak_in(asked, env)
        except Exception:  # noqa: S110 - an error about the error: say the first in English
            pass
    return speaking()


def _any_locale(env: Mapping[str, str]) -> bool:
    return any(env.get(name) for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"))


def _protocol(arguments: Sequence[str], args: Parsed | None, env: Mapping[str, str]) -> Protocol:
    """The run's protocol before its settings are read: from the command line, else, for check, the
    environment's ``CLIENTCHECK_REPORT_FORMAT``. A command line that could not be parsed whole (``args``
    None) is searched for ``--format nagios``: a plugin's usage error is UNKNOWN too."""
    if args is not None:
        given = args.values.get("format")
        checking = args.command == ("check",)
    else:
        given = None
        for index, arg in enumerate(arguments):  # the last one counts, as when parsed
            if arg in ("-f", "--format") and index + 1 < len(arguments):
                given = arguments[index + 1]
            elif arg.startswith("--format="):
                given = arg.partition("=")[2]
        checking = not arguments or arguments[0].startswith("-") or arguments[0] == "check"
    if given is None and checking:
        given = env.get("CLIENTCHECK_REPORT_FORMAT")
    return protocol_of(given)


def entry() -> None:
    """The console script and ``python -m clientcheck``: run ``main`` and leave.

    It leaves with ``os._exit`` once its output is flushed, skipping the interpreter's teardown (freeing
    every module and object one by one): about 5 ms of a 50 ms run, for an agent that runs at every login.
    Nothing is lost: reports are written with fsync and closed before ``main`` returns, we register no
    exit handlers, and standard output and error are flushed here. The cyclic garbage collector is off for
    the same reason: a run this short frees everything by exiting.
    """
    gc.disable()
    status = main()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass  # a closed pipe or stream: nothing left to say
    os._exit(status)
