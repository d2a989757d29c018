"""A small declarative command-line parser.

Why not argparse: building clientcheck's parser with it cost about 20 ms per run here (gettext looks for
translation files for every help string, formatters compile regular expressions), as much as a bare
Python start-up, in an agent that runs at every login. This parser knows exactly what clientcheck needs:
commands and sub-commands, ``--option VALUE`` / ``--option=VALUE`` / ``-o VALUE``, flags, choices,
positionals, and help generated from the same declarations.
"""

from __future__ import annotations

from clientcheck.errors import UsageError, said
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any


class Option(Record):
    __slots__ = ("names", "dest", "help", "metavar", "choices", "default", "convert", "flag")

    names: tuple[str, ...]
    dest: str
    help: str
    metavar: str | None
    choices: tuple[str, ...]
    default: Any
    convert: Callable[[str], Any] | None  # raises ValueError with a message for a bad value
    flag: bool  # takes no value; True when given

    def __init__(
        self,
        names: tuple[str, ...],
        help: str,
        *,
        metavar: str | None = None,
        choices: tuple[str, ...] = (),
        default: Any = None,
        convert: Callable[[str], Any] | None = None,
        flag: bool = False,
        dest: str | None = None,
    ) -> None:
        long_name = next((name for name in names if name.startswith("--")), names[0])
        dest = dest or dest_of(long_name)
        self._set(locals())

    @property
    def label(self) -> str:
        value = "" if self.flag else " " + (self.metavar or "{" + ",".join(self.choices) + "}")
        return ", ".join(self.names) + value


def dest_of(name: str) -> str:
    """Where an option's value is kept in ``Parsed.values``: ``--rules-key`` -> ``rules_key``."""
    return name.lstrip("-").replace("-", "_")


class Command(Record):
    __slots__ = ("name", "summary", "options", "positionals", "subcommands", "hidden")

    name: str
    summary: str
    options: tuple[Option, ...]
    positionals: tuple[tuple[str, str], ...]  # (metavar, help)
    subcommands: tuple[Command, ...]
    hidden: bool  # run by clientcheck itself, not by people: left out of the help

    def __init__(
        self,
        name: str,
        summary: str,
        options: tuple[Option, ...] = (),
        positionals: tuple[tuple[str, str], ...] = (),
        subcommands: tuple[Command, ...] = (),
        hidden: bool = False,
    ) -> None:
        self._set(locals())


class HelpRequested(Exception):  # noqa: N818 - not an error: the caller prints the text and exits 0
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class Parsed:
    """The parse result: ``command`` (words, like ("rules", "validate")), option values by dest, and
    ``positionals``."""

    def __init__(self, command: tuple[str, ...], values: dict[str, Any], positionals: list[str]) -> None:
        self.command = command
        self.values = values
        self.positionals = positionals

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


class Parser:
    def __init__(
        self, prog: str, description: str, commands: tuple[Command, ...], default: str, version: str, epilog: str
    ) -> None:
        self.prog = prog
        self.version = version
        self.description = description
        self.commands = {command.name: command for command in commands}
        self.default = default
        self.epilog = epilog

    def _hint(self, words: Sequence[str] = ()) -> str:
        return said("see '{command}'", command=" ".join([self.prog, *words, "--help"]))

    def parse(self, argv: Sequence[str]) -> Parsed:
        args = list(argv)
        if args and args[0] in ("-h", "--help"):
            raise HelpRequested(self.help())
        if args and args[0] == "--version":
            raise HelpRequested(self.version + "\n")
        command = self.commands[self.default]
        words: list[str] = []
        if args and not args[0].startswith("-"):
            if args[0] not in self.commands:
                shown = ", ".join(name for name, each in self.commands.items() if not each.hidden)
                raise UsageError(
                    said("unknown command {name!r}", name=args[0]), hint=said("commands: {names}", names=shown)
                )
            command = self.commands[args.pop(0)]
        words.append(command.name)
        while command.subcommands:
            names = {sub.name: sub for sub in command.subcommands}
            if not args or args[0] in ("-h", "--help"):
                if args:
                    raise HelpRequested(self.help(command, words))
                raise UsageError(
                    said("'{command}' needs a command: {names}", command=" ".join(words), names=", ".join(names)),
                    hint=self._hint(words),
                )
            if args[0] not in names:
                unknown = " ".join([*words, args[0]])
                raise UsageError(
                    said("unknown command {name!r}", name=unknown),
                    hint=said("commands: {names}", names=", ".join(names)),
                )
            command = names[args.pop(0)]
            words.append(command.name)
        return self._options(command, tuple(words), args)

    def _options(self, command: Command, words: tuple[str, ...], args: list[str]) -> Parsed:
        by_name = {name: option for option in command.options for name in option.names}
        values: dict[str, Any] = {option.dest: option.default for option in command.options}
        positionals: list[str] = []
        only_positionals = False
        while args:
            arg = args.pop(0)
            if only_positionals or not arg.startswith("-") or arg == "-":
                positionals.append(arg)
                continue
            if arg == "--":
                only_positionals = True
                continue
            if arg in ("-h", "--help"):
                raise HelpRequested(self.help(command, words))
            name, has_inline, inline = arg.partition("=") if arg.startswith("--") else (arg, False, "")
            option = by_name.get(name)
            if option is None:
                raise UsageError(
                    said("unknown option {name!r} for '{command}'", name=name, command=" ".join(words)),
                    hint=self._hint(words),
                )
            if option.flag:
                if has_inline:
                    raise UsageError(said("option {name} takes no value", name=name), hint=self._hint(words))
                values[option.dest] = True
                continue
            if has_inline:
                value = inline
            elif args and not (args[0].startswith("-") and args[0] != "-"):
                value = args.pop(0)
            else:
                raise UsageError(said("option {name} needs a value", name=name), hint=self._hint(words))
            values[option.dest] = self._convert(option, name, value, words)
        expected = [metavar for metavar, _ in command.positionals]
        if len(positionals) != len(expected):
            wanted = " ".join(expected) or "no arguments"
            raise UsageError(
                said(
                    "'{command}' takes {wanted}, got {count} argument(s)",
                    command=" ".join(words),
                    wanted=wanted,
                    count=len(positionals),
                ),
                hint=self._hint(words),
            )
        return Parsed(words, values, positionals)

    def _convert(self, option: Option, name: str, value: str, words: Sequence[str]) -> Any:
        if option.choices and value not in option.choices:
            raise UsageError(
                said(
                    "invalid value {value!r} for {name} (choose from {choices})",
                    value=value,
                    name=name,
                    choices=", ".join(option.choices),
                ),
                hint=self._hint(words),
            )
        if option.convert is None:
            return value
        try:
            return option.convert(value)
        except ValueError as error:
            reason = error.args[0] if error.args and isinstance(error.args[0], str) else str(error)
            # Translators: {name} is a command-line option (--as-of), {reason} what is wrong with its value.
            raise UsageError(said("{name}: {reason}", name=name, reason=reason), hint=self._hint(words)) from None

    def help(self, command: Command | None = None, words: Sequence[str] = ()) -> str:
        if command is None:
            import textwrap  # only when help is asked for

            lines = [
                f"usage: {self.prog} [COMMAND] [OPTIONS]",
                "",
                textwrap.fill(self.description, 100),
                "",
                "commands:",
            ]
            for each in self.commands.values():
                if each.hidden:
                    continue
                default = " (the default)" if each.name == self.default else ""
                lines.append(f"  {each.name:<12}{each.summary}{default}")
                lines += [f"  {each.name + ' ' + sub.name:<24}{sub.summary}" for sub in each.subcommands]
            lines += [
                "",
                "options:",
                f"  {'-h, --help':<24}show this help",
                f"  {'--version':<24}show the version",
                "",
                f"Run '{self.prog} COMMAND --help' for a command's options.",
                "",
                self.epilog,
            ]
            return "\n".join(lines) + "\n"
        usage = " ".join([self.prog, *words, "[OPTIONS]", *(metavar for metavar, _ in command.positionals)])
        lines = [f"usage: {usage}", "", command.summary]
        if command.subcommands:
            lines += ["", "commands:"] + [f"  {sub.name:<12}{sub.summary}" for sub in command.subcommands]
        if command.positionals:
            lines += ["", "arguments:"] + [f"  {metavar:<24}{text}" for metavar, text in command.positionals]
        lines += ["", "options:", f"  {'-h, --help':<24}show this help"]
        for option in command.options:
            label = option.label
            lines.append(f"  {label:<24}{option.help}" if len(label) < 24 else f"  {label}\n  {'':<24}{option.help}")
        return "\n".join(lines) + "\n"
