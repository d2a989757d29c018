"""The command line. ``main`` is the one place where errors become exit statuses and one-line messages."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Mapping, Sequence

from clientcheck import __version__
from clientcheck.errors import ClientcheckError, ExitStatus, RulesError, UsageError
from clientcheck.model import PLATFORMS

COMMANDS = ("check", "inventory", "rules")
FORMATS = ("text", "json")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, hint=f"see '{self.prog} --help'")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    machine = common.add_argument_group("what to inspect")
    machine.add_argument(
        "--root",
        metavar="DIR",
        help="inspect the machine whose file tree is at DIR (a mounted disk or captured tree)",
    )
    machine.add_argument("--platform", choices=PLATFORMS, help="the OS of the --root tree (default: this one)")
    output = common.add_argument_group("output")
    output.add_argument("--format", "-f", choices=FORMATS, default="text", help="output format (default: text)")
    output.add_argument("--output", "-o", metavar="FILE", help="write to FILE (atomically) instead of standard output")

    judging = _Parser(add_help=False)
    group = judging.add_argument_group("rules")
    group.add_argument("--rules", metavar="FILE", help="rule file to judge by (default: the bundled rules)")
    group.add_argument(
        "--lang",
        metavar="TAG",
        help="language of messages, like de or pt-BR (default: from LANGUAGE/LC_ALL/LC_MESSAGES/LANG)",
    )
    group.add_argument(
        "--as-of", type=_date, metavar="DATE", help="judge as if today were DATE (YYYY-MM-DD), to preview deadlines"
    )

    parser = _Parser(
        prog="clientcheck",
        description="Check this computer's OS, web browsers and PDF viewers against a minimum-version rule "
        "file, and say which updates are owed.",
        epilog="Exit status of check: 0 nothing owed, 1 updates owed, 2 usage error, 3 no usable rules, "
        "4 cannot read what to inspect, 5 cannot write output, 70 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"clientcheck {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.add_parser(
        "check",
        parents=[common, judging],
        help="inspect, judge by the rules, report (default)",
        description="Inspect this computer, judge it by the rules, and report what is owed.",
    )
    commands.add_parser(
        "inventory",
        parents=[common],
        help="show what was found, without judging it",
        description="Show the OS, browsers and PDF viewers found, with versions.",
    )
    rules = commands.add_parser("rules", help="work with rule files", description="Work with rule files.")
    rules_commands = rules.add_subparsers(dest="rules_command", metavar="COMMAND", parser_class=_Parser)
    rules_commands.required = True
    validate = rules_commands.add_parser(
        "validate",
        help="check a rule file and list every problem",
        description="Check a rule file; list every problem with its location.",
    )
    validate.add_argument("file", metavar="FILE")
    return parser


def _normalise(argv: Sequence[str]) -> list[str]:
    """``clientcheck`` and ``clientcheck --format json`` mean ``clientcheck check ...``."""
    args = list(argv)
    if args and not args[0].startswith("-") and args[0] not in COMMANDS:
        raise UsageError(f"unknown command {args[0]!r}", hint=f"commands: {', '.join(COMMANDS)}")
    if not args or (args[0] not in COMMANDS and args[0] not in ("-h", "--help", "--version")):
        args.insert(0, "check")
    return args


def _emit(text: str, output: str | None) -> None:
    from clientcheck.deliver import write_atomic, write_stream

    if output is None:
        write_stream(text)
    else:
        write_atomic(output, text)


def _warn(message: str) -> None:
    if sys.stderr is not None:
        print(f"clientcheck: warning: {message}", file=sys.stderr)


def run(args: argparse.Namespace, env: Mapping[str, str], now: dt.datetime) -> int:
    if args.command == "rules":
        return _validate(args.file)

    from clientcheck.inspect import inspect_machine

    if args.platform and args.root is None:
        raise UsageError("--platform needs --root: only the running machine can be inspected live")
    inventory = inspect_machine(args.platform, args.root, env)
    if args.command == "inventory":
        from clientcheck.render import inventory_renderer

        _emit(inventory_renderer(args.format)(inventory, now), args.output)
        return ExitStatus.OK

    from clientcheck.evaluate import evaluate
    from clientcheck.language import language_from_env
    from clientcheck.model import Report
    from clientcheck.render import report_renderer
    from clientcheck.rules import load_rules

    today = args.as_of or now.date()
    loaded = load_rules(args.rules, today)
    for warning in loaded.warnings:
        _warn(warning)
    language = args.lang or language_from_env(env)
    findings = evaluate(inventory, loaded.ruleset, today, language)
    report = Report(generated_at=now, inventory=inventory, findings=findings, rules=loaded.info, language=language)
    _emit(report_renderer(args.format)(report), args.output)
    return ExitStatus.OWED if report.blocking else ExitStatus.OK


def _validate(path: str) -> int:
    from clientcheck.deliver import write_stream
    from clientcheck.rules import read_rule_file

    try:
        ruleset, _ = read_rule_file(path)
    except RulesError as error:
        write_stream("".join(f"{path}: {problem}\n" for problem in error.problems))
        write_stream(f"{path}: invalid, {len(error.problems)} problem{'s' if len(error.problems) != 1 else ''}\n")
        return ExitStatus.RULES_INVALID
    expired = " (expired)" if ruleset.expires < dt.date.today() else ""
    write_stream(
        f"{path}: valid: {len(ruleset.rules)} rules from {ruleset.publisher}, serial {ruleset.serial}, "
        f"expires {ruleset.expires}{expired}\n"
    )
    return ExitStatus.OK


def main(
    argv: Sequence[str] | None = None, *, env: Mapping[str, str] | None = None, now: dt.datetime | None = None
) -> int:
    """Run the command line; returns the exit status. No exception reaches the caller."""
    try:
        args = build_parser().parse_args(_normalise(sys.argv[1:] if argv is None else argv))
        if args.command is None:
            args.command = "check"
        return int(run(args, os.environ if env is None else env, now or dt.datetime.now(dt.timezone.utc)))
    except ClientcheckError as error:
        if sys.stderr is not None:
            print(f"clientcheck: error: {error.message}", file=sys.stderr)
            if error.hint:
                print(f"clientcheck: hint: {error.hint}", file=sys.stderr)
        return int(error.exit_status)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (clientcheck ... | head): not our failure, and nothing left to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitStatus.OK
    except SystemExit as exit_:  # argparse's --help and --version
        return int(exit_.code or 0) if isinstance(exit_.code, int) else ExitStatus.USAGE
    except Exception as error:
        if sys.stderr is not None:
            print(f"clientcheck: internal error: {type(error).__name__}: {error}", file=sys.stderr)
            print("clientcheck: hint: please report this, with CLIENTCHECK_DEBUG=1 output", file=sys.stderr)
            if os.environ.get("CLIENTCHECK_DEBUG"):
                import traceback

                traceback.print_exc()
        return ExitStatus.INTERNAL
