"""The command line. ``main`` is the one place where errors become exit statuses and one-line messages."""

from __future__ import annotations

import gc
import os
import sys

from clientcheck import __version__
from clientcheck import dates as dt
from clientcheck.arguments import Command, HelpRequested, Option, Parsed, Parser
from clientcheck.deliver import write_stream
from clientcheck.errors import ClientcheckError, ExitStatus, RulesError, UsageError
from clientcheck.model import PLATFORMS
from clientcheck.render import FORMATS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from clientcheck.config import Places, Settings
    from clientcheck.login import Notice
    from clientcheck.model import Inventory, Report


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


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
    from clientcheck.config import over_maximum, parse_duration

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
        "4 cannot read what to inspect, 5 cannot write the output, 70 internal error, 78 invalid configuration.",
    )


def _emit(text: str, output: str | None) -> None:
    from clientcheck.deliver import write_output

    if output is None:
        write_stream(text)
    else:
        write_output(output, text)


def _say(line: str) -> None:
    """One line on stderr. A closed or missing stderr never changes what the run does or returns. Errors
    and warnings quote rule files, servers and paths: control characters in them are written out."""
    if sys.stderr is None:
        return
    from clientcheck.visible import one_line

    try:
        print(one_line(line), file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _warn(message: str) -> None:
    _say(f"clientcheck: warning: {message}")


def this_platform() -> str:
    """The running machine's OS, for its configuration and state folders: another Unix uses Linux's."""
    from clientcheck.inspect import host_platform

    return host_platform() or "linux"


def _settings(args: Parsed, env: Mapping[str, str], places: Places | None) -> tuple[Settings, Places]:
    from clientcheck.config import default_places, given_options, load_settings

    platform = this_platform()
    config_file = args.values.get("config")
    if places is None:
        places = default_places(platform, env, config_file)
    elif config_file:
        places = places.replace(user=config_file)
    settings = load_settings(
        platform,
        env,
        given_options(args.values),
        places,
        user_file_required=bool(config_file or env.get("CLIENTCHECK_CONFIG")),
    )
    for note in settings.notes:
        _warn(note)
    return settings, places


def run(args: Parsed, env: Mapping[str, str], now: dt.datetime, places: Places | None = None) -> int:
    if args.command == ("rules", "validate"):
        return _validate(args.positionals[0])
    if args.command[0] == "rules":
        from clientcheck.rules.signing import keygen, sign, verify

        command = args.command[1]
        if command == "export":
            return _export(args.rules, args.intune, args.products, args.output)
        if command == "generate":
            return _generate(args.policy, args.previous, args.output, now)
        if command == "keygen":
            return keygen(args.public, args.secret, force=args.force)
        if command == "sign":
            return sign(args.positionals[0], args.secret, args.trusted_comment, env)
        return verify(args.positionals[0], args.key)

    if args.command[0] == "autostart":
        return _autostart(args.command[1], args.system, args.method, env)
    settings, places = _settings(args, env, places)
    if args.command == ("check",):
        args.values["effective_format"] = settings["report.format"]  # for main's error mapping
    if args.command == ("config", "show"):
        from clientcheck.config import as_json, describe

        if args.show_format == "json":
            import json

            write_stream(json.dumps(as_json(settings), indent=2, ensure_ascii=False) + "\n")
        else:
            write_stream(describe(settings, places))
        return ExitStatus.OK

    from clientcheck.inspect import inspect_machine
    from clientcheck.privacy import Redactor

    if args.command == ("login",):
        return _login(args, settings, env, now)
    platform = args.platform or ("windows" if args.registry else None)
    if platform and args.root is None and args.registry is None:
        raise UsageError("--platform needs --root (or --registry): only the running machine can be inspected live")
    inventory = inspect_machine(platform, args.root, env, registry=args.registry)
    redactor = Redactor(settings["privacy.home_paths"], env)
    if args.command == ("inventory",):
        from clientcheck.render import inventory_renderer

        # The configured format is check's: inventory has its own default, text.
        _emit(inventory_renderer(args.format or "text")(redactor.inventory(inventory), now), args.output)
        return ExitStatus.OK

    report = judge(inventory, settings, env, now, args.as_of)
    report = redactor.report(report)
    report_format = settings["report.format"]
    if settings["report.sinks"]:
        if args.root is not None or args.registry is not None or args.as_of is not None:
            # The sinks are this machine's record for the fleet: a captured machine or a pretend date is not.
            _warn("report.sinks not written: this run judges a captured machine or another day")
        else:
            write_sinks(report, settings["report.sinks"])
    _emit(render(report, report_format), settings["report.output"])
    if report_format == "nagios":
        # A Nagios/Icinga plugin's exit status is its verdict: 0 OK, 1 WARNING, 2 CRITICAL (3 for errors).
        from clientcheck.render.nagios import nagios_exit_status

        return nagios_exit_status(report)
    return ExitStatus.OWED if report.blocking else ExitStatus.OK


def judge(
    inventory: Inventory, settings: Settings, env: Mapping[str, str], now: dt.datetime, as_of: dt.date | None = None
) -> Report:
    """Load the rules the settings name and judge the inventory by them."""
    from clientcheck.evaluate import evaluate
    from clientcheck.language import language_from_env
    from clientcheck.model import Report
    from clientcheck.rules import load_rules

    today = as_of or now.date()
    source = settings["rules.source"]
    cache_folder: str | None = None
    state_folder: str | None = None
    if source is not None and "://" in source:
        from clientcheck.rules.floor import state_dir

        # From this run's environment (tests give their own); "" when there is none: no floor outside the cache.
        cache_folder, state_folder = env.get("CLIENTCHECK_CACHE_DIR") or None, state_dir(env) or ""
    loaded = load_rules(
        source,
        today,
        key=settings["rules.key"],
        ca_bundle=settings["rules.ca_bundle"],
        now=now,
        cache_folder=cache_folder,
        state_folder=state_folder,
        named=settings.origins["rules.source"].level == "command line",
    )
    for warning in loaded.warnings:
        _warn(warning)
    language = settings["report.language"] or language_from_env(env)
    findings = evaluate(inventory, loaded.ruleset, today, language)
    return Report(
        generated_at=now, inventory=inventory, findings=findings, rules=loaded.info, language=language, as_of=today
    )


def _autostart(action: str, system: bool, method: str | None, env: Mapping[str, str]) -> int:
    from clientcheck import autostart

    platform = this_platform()
    if method is not None and platform != "linux":
        raise UsageError("--method is for Linux only: this OS has one way to run at login")
    method = method or "auto"
    runner = autostart.run_command  # systemctl --user, launchctl, schtasks: on this machine
    if action == "status":
        statuses = autostart.status(platform, system=system, method=method, env=env, runner=runner)
        write_stream(autostart.describe_status(statuses))
        return ExitStatus.OK if autostart.is_installed(statuses) else ExitStatus.OWED
    act = autostart.install if action == "install" else autostart.uninstall
    write_stream(autostart.describe(act(platform, system=system, method=method, env=env, runner=runner)))
    return ExitStatus.OK


def _login(args: Parsed, settings: Settings, env: Mapping[str, str], now: dt.datetime) -> int:
    from clientcheck import dirs
    from clientcheck.errors import OutputError
    from clientcheck.inspect import inspect_machine
    from clientcheck.login import StateFolder, login
    from clientcheck.privacy import Redactor

    folder = env.get("CLIENTCHECK_STATE_DIR", "").strip() or dirs.user_state_dir(this_platform(), env)
    if folder is None:
        raise OutputError(
            "login: no state folder: the environment names no home folder",
            hint="run it in the user's session (the autostart entries do), or use check",
        )

    def judge_machine() -> Report:
        inventory = inspect_machine(None, None, env)
        return Redactor(settings["privacy.home_paths"], env).report(judge(inventory, settings, env, now))

    def show(notice: Notice) -> str | None:
        from clientcheck.notify import notify

        # Urgent (a required update owed now) stays on screen until dismissed; "due soon" does not.
        return notify(
            notice.title, notice.body, url=notice.url, link_label=notice.link_label, critical=notice.urgent, env=env
        )

    _, report = login(StateFolder(folder), settings.values, now, judge_machine, render, show, _warn, force=args.force)
    if report is None:
        return ExitStatus.OK
    if settings["report.sinks"]:
        write_sinks(report, settings["report.sinks"])  # login is often the only run: the fleet's copy too
    return ExitStatus.OWED if report.blocking else ExitStatus.OK


def write_sinks(report: Report, sinks: Sequence[tuple[str, str]]) -> None:
    """The extra copies ``report.sinks`` asks for, each written as ``--output`` is."""
    from clientcheck.deliver import write_output

    for sink_format, sink_path in sinks:
        write_output(sink_path, render(report, sink_format))


def render(report: Report, format_name: str) -> str:
    from clientcheck.render import report_renderer

    return report_renderer(format_name)(report)


def _generate(policy_path: str | None, previous_path: str | None, output: str | None, now: dt.datetime) -> int:
    from clientcheck.rules import read_rule_file
    from clientcheck.rules.generate import generate
    from clientcheck.rules.generate.build import render
    from clientcheck.rules.generate.download import fetch_json
    from clientcheck.rules.generate.policy import load_policy

    if not policy_path:
        raise UsageError("rules generate needs --policy FILE", hint="start from rules/policy.example.json")
    policy = load_policy(policy_path)
    previous = read_rule_file(previous_path)[0] if previous_path else None
    document = generate(policy, fetch_json, now.date(), previous)
    _emit(render(document), output)
    return ExitStatus.OK


def _export(rules_path: str | None, intune: bool, products_text: str | None, output: str | None) -> int:
    import json

    from clientcheck.render.intune import intune_rules
    from clientcheck.rules import bundled_rules_path, read_rule_file

    if not intune:
        raise UsageError("rules export needs a target", hint="rules export --intune")
    ruleset, _ = read_rule_file(rules_path or bundled_rules_path())
    # Remediation strings in every language the rule file speaks, each rule falling back to English.
    languages = sorted({"en"} | {tag for rule in ruleset.rules for tag, _ in rule.message})
    products = None
    if products_text is not None:
        products = [product.strip() for product in products_text.split(",") if product.strip()]
        named = {product for rule in ruleset.rules for product in rule.products}
        unknown = [product for product in products if product not in named]
        if unknown or not products:
            raise UsageError(
                f"--products: {', '.join(unknown) or 'empty'}: no rule names "
                + ("it" if len(unknown) == 1 else "them"),
                hint="products the rules name: " + ", ".join(sorted(named)),
            )
    _emit(json.dumps(intune_rules(ruleset, languages, products), indent=2, ensure_ascii=False) + "\n", output)
    return ExitStatus.OK


def _validate(path: str) -> int:
    from clientcheck.rules import read_rule_file

    try:
        ruleset, _ = read_rule_file(path)
    except RulesError as error:
        from clientcheck.visible import one_line

        write_stream("".join(one_line(f"{path}: {problem}") + "\n" for problem in error.problems))
        write_stream(f"{path}: invalid, {len(error.problems)} problem{'s' if len(error.problems) != 1 else ''}\n")
        return ExitStatus.RULES_INVALID
    today = dt.date.today()
    expired = " (expired)" if ruleset.expires < today else ""
    # A publisher checking a file before it goes out, or a wrong clock here: either way, worth a word.
    future = f" (published {ruleset.published}, after today)" if ruleset.published > today else ""
    write_stream(
        f"{path}: valid: {len(ruleset.rules)} rules from {ruleset.publisher}, serial {ruleset.serial}, "
        f"expires {ruleset.expires}{expired}{future}\n"
    )
    return ExitStatus.OK


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
    places: Places | None = None,
) -> int:
    """Run the command line; returns the exit status. No exception reaches the caller."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    args: Parsed | None = None
    try:
        try:
            args = build_parser().parse(arguments)
        except HelpRequested as help_:
            write_stream(help_.text)
            return ExitStatus.OK
        return int(run(args, env, now or dt.datetime.now(dt.timezone.utc), places))
    except ClientcheckError as error:
        _say(f"clientcheck: error: {error.message}")
        if error.hint:
            _say(f"clientcheck: hint: {error.hint}")
        if _nagios_requested(arguments, env, args):
            return _nagios_unknown(error.message)
        return int(error.exit_status)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the one place a bug becomes a message, not a traceback
        _say(f"clientcheck: internal error: {type(error).__name__}: {error}")
        _say("clientcheck: hint: please report this, with CLIENTCHECK_DEBUG=1 output")
        if os.environ.get("CLIENTCHECK_DEBUG") and sys.stderr is not None:
            import traceback

            traceback.print_exc()
        if _nagios_requested(arguments, env, args):
            return _nagios_unknown(f"internal error: {type(error).__name__}")
        return ExitStatus.INTERNAL


def _nagios_requested(arguments: list[str], env: Mapping[str, str], args: Parsed | None) -> bool:
    """Whether the run was to print the Nagios format: by the configuration (once read), the environment,
    or the command line, even when that could not be parsed whole."""
    if args is not None and "effective_format" in args.values:
        return bool(args.values["effective_format"] == "nagios")  # the settings were read: they decide
    if env.get("CLIENTCHECK_REPORT_FORMAT") == "nagios" and (args is None or args.command == ("check",)):
        return True
    return any(
        (arg in ("-f", "--format") and index + 1 < len(arguments) and arguments[index + 1] == "nagios")
        or arg == "--format=nagios"
        for index, arg in enumerate(arguments)
    )


def _nagios_unknown(message: str) -> int:
    """A plugin that cannot do its job says UNKNOWN, on stdout, and exits 3 (the Nagios plugin rules)."""
    try:
        write_stream(f"CLIENTCHECK UNKNOWN - {message}\n")
    except ClientcheckError:
        pass
    return 3


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
