"""Every setting clientcheck has (its name, kind, default, help and command-line option), and how a raw
value from any source becomes a value of the setting's kind, or a ``ConfigError`` naming where it came from.

The settings declare their own choices: ``FORMATS`` is the list of output formats (``report.format``,
``--format``), and ``render`` loads the module of the one asked for by the same name.
"""

from __future__ import annotations

from clientcheck.errors import ConfigError
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Setting(Record):
    __slots__ = ("name", "kind", "default", "help", "option", "choices", "maximum")

    name: str  # "section.key", as in the TOML file
    kind: str  # text, url, choice, bool, count, duration, sinks
    default: Any
    help: str
    option: str | None  # the command-line option that sets it
    choices: tuple[str, ...]
    maximum: int | None  # counts and durations (seconds): the largest value that makes sense

    def __init__(
        self,
        name: str,
        kind: str,
        default: Any,
        help: str,
        option: str | None = None,
        choices: tuple[str, ...] = (),
        maximum: int | None = None,
    ) -> None:
        self._set(locals())

    @property
    def env_name(self) -> str:
        return "CLIENTCHECK_" + self.name.replace(".", "_").upper()


_DAY = 86400
FORMATS = ("text", "json", "html", "nagios", "prometheus", "jamf", "intune", "csv", "ansible")  # one per render/ module

SETTINGS = (
    Setting("rules.source", "text", None, "rule file or https:// URL (default: the bundled rules)", "--rules"),
    Setting("rules.key", "text", None, "the publisher's minisign public key, or a .pub file", "--rules-key"),
    Setting("rules.ca_bundle", "text", None, "PEM file of CA certificates to trust for fetching", "--ca-bundle"),
    Setting("report.format", "choice", "text", "output format of check", "--format", FORMATS),
    Setting("report.output", "text", None, "file to write the report to (default: standard output)", "--output"),
    Setting("report.language", "text", None, "language of messages (default: from the locale)", "--lang"),
    Setting("report.sinks", "sinks", (), 'extra copies of each report, as "FORMAT:FILE" (written atomically)'),
    Setting("report.server", "url", None, "the collector (clientcheck-server) this machine's reports are shipped to"),
    Setting(
        "report.enroll_secret",
        "text",
        None,
        "a file holding the collector's enrollment secret (root-only: never the secret itself, which every "
        "local user could read in a setting)",
    ),
    Setting("report.ca_bundle", "text", None, "PEM file of CA certificates to trust for the collector"),
    Setting(
        "privacy.home_paths",
        "choice",
        "hide",
        "paths inside home folders: hide (left out), tilde (~/…, no user name) or show",
        choices=("hide", "tilde", "show"),
    ),
    Setting(
        "privacy.hostname",
        "choice",
        "show",
        "the name this machine is shipped under: show (its host name) or pseudonym (host-…, from its agent id)",
        choices=("show", "pseudonym"),
    ),
    Setting(
        "login.delay", "duration", 10, "login: wait a random time up to this before checking", "--delay", maximum=_DAY
    ),
    Setting(
        "login.interval", "duration", 3600, "login: skip the run if the last one is more recent", maximum=366 * _DAY
    ),
    Setting("login.notify", "bool", True, "login: show a desktop notification when something is owed"),
    Setting("login.history", "count", 10, "login: how many past reports to keep in the state folder", maximum=10_000),
)

# Variables that are not settings but are read by name elsewhere: an unknown CLIENTCHECK_ variable is an
# error (a typo must not pass silently), these are not; nor are the packaging recipes' CLIENTCHECK_BUILD_…
# and the collector's CLIENTCHECK_SERVER_… (clientcheck-server's data folder and database, set on a machine
# that runs both).
OTHER_VARIABLES = frozenset(
    {
        "CLIENTCHECK_CONFIG",
        "CLIENTCHECK_DEBUG",
        "CLIENTCHECK_CACHE_DIR",
        "CLIENTCHECK_STATE_DIR",
        "CLIENTCHECK_KEY_PASSWORD",
    }
)
BUILD_VARIABLES = ("CLIENTCHECK_BUILD_", "CLIENTCHECK_SERVER_")


def convert(setting: Setting, raw: Any, where: str, *, from_text: bool = False) -> Any:
    """The value in the setting's kind; ``from_text`` for strings that stand for other kinds (environment)."""
    problem = f"{where}: {setting.name}"
    kind = setting.kind
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):  # a registry DWORD
            return bool(raw)
        if isinstance(raw, str) and from_text and raw.strip().lower() in _BOOLEANS:
            return _BOOLEANS[raw.strip().lower()]
        raise ConfigError(f"{problem}: expected true or false, got {shown(raw)}")
    if kind in ("count", "duration"):
        number: int | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            if raw < 0:
                raise ConfigError(f"{problem}: must not be negative, got {shown(raw)}")
            number = raw
        elif isinstance(raw, str) and (from_text or kind == "duration"):
            number = parse_duration(raw) if kind == "duration" else _count(raw)
        if number is not None:
            too_large = over_maximum(setting, number)
            if too_large:
                raise ConfigError(f"{problem}: {too_large}, got {shown(raw)}")
            return number
        expected = "a duration like 30s, 15m, 4h or 1d, or seconds" if kind == "duration" else "a whole number"
        raise ConfigError(f"{problem}: expected {expected}, got {shown(raw)}")
    if kind == "sinks":
        items = raw.split(";") if isinstance(raw, str) and from_text else raw
        if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
            raise ConfigError(f'{problem}: expected a list of "FORMAT:FILE" strings, got {shown(raw)}')
        return tuple(_sink(item.strip(), problem) for item in items if item.strip())
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{problem}: expected a non-empty string, got {shown(raw)}")
    if kind == "url":
        return _url(raw.strip(), problem)
    if setting.choices and raw not in setting.choices:
        raise ConfigError(f"{problem}: {shown(raw)} is not one of {', '.join(setting.choices)}")
    return raw


_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _count(text: str) -> int | None:
    text = text.strip()
    if not text.isascii() or not text.isdigit():
        return None
    # int() refuses more than 4300 digits; any number this long is past every maximum, and is said so.
    return int(text) if len(text) <= 100 else _ABSURD


_ABSURD = 10**100


def over_maximum(setting: Setting | str, value: int) -> str | None:
    """Why ``value`` is too large for the setting (or setting name); None when it is not."""
    if isinstance(setting, str):
        setting = next(item for item in SETTINGS if item.name == setting)
    if setting.maximum is None or value <= setting.maximum:
        return None
    if setting.kind == "duration":
        return f"at most {_duration_text(setting.maximum)} ({setting.maximum} seconds)"
    return f"at most {setting.maximum}"


def _duration_text(seconds: int) -> str:
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def shown(raw: Any) -> str:
    """A value as an error message quotes it, bounded: a number 5,000 digits long or a long text is cut
    short, and a list or table only its first levels (a binary plist can reference one list from many
    places, which a plain ``repr`` walks as a tree of any size: 2**40 items, 40 levels on)."""
    if isinstance(raw, int) and abs(raw) > _ABSURD:
        return "a number of more than 100 digits"  # repr() itself refuses past 4300 digits
    if isinstance(raw, str) and len(raw) > 40:
        return f"{raw[:30]!r}… ({len(raw)} characters)"
    if not isinstance(raw, (list, tuple, dict)):
        return repr(raw)
    import reprlib  # only on this error path

    bounded = reprlib.Repr()
    bounded.maxlevel, bounded.maxstring, bounded.maxother = 3, 80, 80
    try:
        return bounded.repr(raw)
    except ValueError:  # an integer inside too long for repr()
        return f"a {type(raw).__name__} holding a number too long to show"


def parse_duration(text: str) -> int | None:
    """Seconds in ``"90"``, ``"90s"``, ``"15m"``, ``"4h"`` or ``"1d"``; None for anything else."""
    text = text.strip().lower()
    unit = 1
    if text[-1:] in _UNITS:
        unit = _UNITS[text[-1]]
        text = text[:-1].strip()
    count = _count(text)
    return None if count is None else count * unit


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _sink(item: str, problem: str) -> tuple[str, str]:
    format_name, colon, path = item.partition(":")
    if not colon or format_name not in FORMATS or not path.strip():
        raise ConfigError(
            f"{problem}: {item!r} is not FORMAT:FILE",
            hint=f"like json:/var/lib/clientcheck/report.json; formats: {', '.join(FORMATS)}",
        )
    return format_name, path.strip()


def _url(text: str, problem: str) -> str:
    """A collector's address: https://, or http:// (allowed only to this machine, which is judged when the
    address is used, by the parser the request is made with: ``net.urls``, not imported on every run)."""
    if not text.lower().startswith(("https://", "http://")) or any(char.isspace() for char in text):
        raise ConfigError(f"{problem}: {shown(text)} is not an https:// address")
    return text
