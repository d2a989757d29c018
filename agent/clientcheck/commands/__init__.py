"""The commands, one module each: ``check`` (check and inventory), ``login``, ``autostart``, ``config``
(config show) and ``rules`` (validate, keygen, sign, verify, generate, export).

``cli`` parses the command line, reads the settings, decides the run's ``Protocol`` and calls the command,
which returns its exit status or raises a ``ClientcheckError``; ``cli.main`` is the one place such errors
become messages and exit statuses. Each command is given the environment and the clock ``main`` was given,
and reads neither itself. Here: what the commands share (lines on stderr, the output, the report's
renderings) and the protocol object.
"""

from __future__ import annotations

import sys

from clientcheck.deliver import write_stream
from clientcheck.errors import ClientcheckError, ExitStatus, Said
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from clientcheck import dates as dt
    from clientcheck.config import Settings
    from clientcheck.i18n import Translation
    from clientcheck.model import Report

_speaking: list[str] = ["en"]  # the language of what is said on stderr: set by speak_in


def speak_in(asked: str | None, env: Mapping[str, str]) -> None:
    """Say errors, hints and warnings in the language a report would be in: ``asked`` (--lang, the
    settings), else the environment's, else the desktop's. Silently: only the report's language warns."""
    from clientcheck.language import catalog_languages, choose_language

    _speaking[0] = choose_language(asked, env, catalog_languages, lambda _: None, interface_languages(env))


def speaking_language() -> str:
    return _speaking[0]


def speaking() -> Translation:
    """The translation of the run's language (imported only when something is to be said)."""
    from clientcheck.i18n import translation

    return translation(_speaking[0])


def speak_english() -> None:
    """Back to English, where every run starts (a test's in-process runs follow one another)."""
    _speaking[0] = "en"


def spoken(text: str, t: Translation | None = None) -> str:
    """``text`` in the run's language when it was made with ``errors.said`` (and its values too), else as
    it is: most messages quote paths, servers and files, and stay English."""
    if not isinstance(text, Said):
        return text
    t = t or speaking()
    values = {name: spoken(value, t) if isinstance(value, str) else value for name, value in text.values.items()}
    return t.gettext(text.template, **values)


def say(line: str) -> None:
    """One line on stderr. A closed or missing stderr never changes what the run does or returns. Errors
    and warnings quote rule files, servers and paths: control characters in them are written out."""
    if sys.stderr is None:
        return
    from clientcheck.visible import one_line

    try:
        print(one_line(line), file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def warn(message: str) -> None:
    say(speaking().gettext("clientcheck: warning: {message}", message=spoken(message)))


def interface_languages(env: Mapping[str, str]) -> Callable[[], list[str]]:
    """What the judge asks when the environment names no language: the running user's desktop languages
    (the Windows registry, macOS preferences), read only then."""

    def read() -> list[str]:
        from clientcheck.platforms import this_platform

        platform = this_platform()
        if platform not in ("windows", "macos"):
            return []  # a Linux session names its locale in the environment
        from clientcheck.inspect.interface import interface_languages

        return interface_languages(platform, env)

    return read


def emit(text: str, output: str | None) -> None:
    """The command's output: to standard output, or written to the file ``output`` names (``-o``)."""
    if output is None:
        write_stream(text)
    else:
        from clientcheck.deliver import write_output

        write_output(output, text)


def render(report: Report, format_name: str) -> str:
    from clientcheck.render import report_renderer

    return report_renderer(format_name)(report)


def write_sinks(report: Report, sinks: Sequence[tuple[str, str]]) -> None:
    """The extra copies ``report.sinks`` asks for, each written as ``--output`` is."""
    from clientcheck.deliver import write_output

    for sink_format, sink_path in sinks:
        write_output(sink_path, render(report, sink_format))


def spool_after(
    report: Report, settings: Settings, env: Mapping[str, str], now: dt.datetime, *, json_text: str | None = None
) -> None:
    """For ``check`` and ``login``, once their report is out: when this run ships (``collector.plan``), put
    the report in the spool and start the shipper detached. Whatever goes wrong is a warning: shipping never
    changes a run's exit status. A run that ships nothing pays for the decision only (a stat or two)."""
    try:
        from clientcheck.collector import machine_level, plan
        from clientcheck.platforms import this_platform

        decided = plan(settings, env, this_platform(), machine=machine_level())
        if decided.warning:
            warn(decided.warning)
        collector = decided.collector
        if collector is not None:
            from clientcheck.commands.collector import spool_and_start

            spool_and_start(collector, report, env, now, json_text)
    except ClientcheckError as error:
        warn(f"the report was not spooled for the collector: {error.message}")
    except Exception as error:  # a bug here must not become the run's failure
        warn(f"the report was not spooled for the collector: internal error: {type(error).__name__}: {error}")


class Protocol(Record):
    """How a run tells how it went, decided once by ``cli.main``: clientcheck's own way (errors on stderr,
    the exit statuses of ``ExitStatus``) or a Nagios/Icinga plugin's, when the format in force is
    ``nagios``: its exit status is its verdict (0 OK, 1 WARNING, 2 CRITICAL), and a plugin that cannot do
    its job says UNKNOWN on stdout and exits 3."""

    __slots__ = ("nagios",)

    nagios: bool

    def __init__(self, nagios: bool) -> None:
        self._set(locals())

    def verdict(self, report: Report) -> int:
        """The exit status of a run that made ``report``."""
        if self.nagios:
            from clientcheck.render.nagios import nagios_exit_status

            return nagios_exit_status(report)
        return ExitStatus.OWED if report.blocking else ExitStatus.OK

    def failed(self, message: str, status: int) -> int:
        """The exit status of a run that failed with ``status`` (the message is already on stderr)."""
        if not self.nagios:
            return status
        try:
            write_stream(f"CLIENTCHECK UNKNOWN - {message}\n")
        except ClientcheckError:
            pass
        return NAGIOS_UNKNOWN


NAGIOS_UNKNOWN = 3
CLIENTCHECK = Protocol(nagios=False)
NAGIOS = Protocol(nagios=True)


def protocol_of(format_name: str | None) -> Protocol:
    """The protocol of a run whose output is in ``format_name``."""
    return NAGIOS if format_name == "nagios" else CLIENTCHECK
