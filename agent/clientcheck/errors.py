"""Exit statuses and the errors that carry them. ``cli.main`` is the one place that maps them."""

from __future__ import annotations


class ExitStatus:
    """Exit statuses (plain ints: an IntEnum class costs start-up time for no gain here)."""

    OK = 0  # nothing owed
    OWED = 1  # at least one required update owed (or a release out of support)
    USAGE = 2  # bad command line (argparse uses 2 as well)
    RULES_INVALID = 3  # `rules validate` found problems, or no usable rule file at all
    INPUT = 4  # what we were asked to inspect cannot be read (--root missing, …)
    OUTPUT = 5  # the report could not be written
    COLLECTOR = 6  # enroll, ship: the collector could not be reached, or refused (the message says which)
    INTERNAL = 70  # a bug: BSD sysexits' EX_SOFTWARE
    CONFIG = 78  # a configuration file, variable or policy that cannot be used: sysexits' EX_CONFIG


class Said(str):
    """English text that remembers the message it was made from and its values, so that ``cli.main``, the
    one place errors are said, can say it in the person's language. It is the English text everywhere
    else (compared, logged, joined into longer text, where it simply becomes English)."""

    template: str
    values: dict[str, object]


def said(template: str, **values: object) -> Said:
    """``template.format(**values)``, remembering both: for the messages people meet most, marked for
    translation by this name (hatch_build.py extracts ``said`` like ``gettext``)."""
    text = Said(template.format(**values))
    text.template = template
    text.values = values
    return text


class ClientcheckError(Exception):
    """An error a user can act on: shown as one line (plus a hint), never as a traceback."""

    exit_status = ExitStatus.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(ClientcheckError):
    exit_status = ExitStatus.USAGE


class InputError(ClientcheckError):
    exit_status = ExitStatus.INPUT


class OutputError(ClientcheckError):
    exit_status = ExitStatus.OUTPUT


class ConfigError(ClientcheckError):
    exit_status = ExitStatus.CONFIG


class CollectorError(ClientcheckError):
    """The collector (clientcheck-server) could not be reached, or refused what was sent."""

    exit_status = ExitStatus.COLLECTOR


class RulesError(ClientcheckError):
    """A rule file that cannot be used. ``problems`` lists every one, each with its location."""

    exit_status = ExitStatus.RULES_INVALID

    def __init__(self, source: str, problems: list[str], *, hint: str | None = None) -> None:
        first = problems[0] if problems else "unusable"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {first}{more}", hint=hint)
        self.source = source
        self.problems = problems
