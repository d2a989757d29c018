"""Settings: what a run uses, from the command line, the environment, configuration files and managed policy.

Precedence, highest first: **managed** policy (an administrator's: Windows ``HKLM``/``HKCU\\SOFTWARE\\Policies
\\clientcheck``, macOS ``/Library/Managed Preferences/org.clientcheck.agent.plist``, Linux
``/etc/clientcheck/managed.toml``), the **command line**, the **environment** (``CLIENTCHECK_RULES_SOURCE``…),
the **user**'s ``config.toml``, the **machine**'s ``config.toml``, then the defaults. A managed value locks
the setting: a command-line option that tries to change it is ignored, with a warning.

Every source is checked the same way: an unknown setting or a value of the wrong kind is an error naming the
file (or variable, or registry key), the setting and the problem; nothing is silently ignored.
"""

from __future__ import annotations

import os

from clientcheck.errors import ConfigError
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from clientcheck.inspect.registry import Registry


class Setting(Record):
    __slots__ = ("name", "kind", "default", "help", "option", "choices", "maximum")

    name: str  # "section.key", as in the TOML file
    kind: str  # text, choice, bool, count, duration, sinks
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
_table: list[tuple[Setting, ...]] = []  # built once, on first use: a run reads it more than once


def _settings() -> tuple[Setting, ...]:
    if _table:
        return _table[0]
    from clientcheck.render import FORMATS

    _table.append(
        (
            Setting("rules.source", "text", None, "rule file or https:// URL (default: the bundled rules)", "--rules"),
            Setting("rules.key", "text", None, "the publisher's minisign public key, or a .pub file", "--rules-key"),
            Setting(
                "rules.ca_bundle", "text", None, "PEM file of CA certificates to trust for fetching", "--ca-bundle"
            ),
            Setting("report.format", "choice", "text", "output format of check", "--format", FORMATS),
            Setting(
                "report.output", "text", None, "file to write the report to (default: standard output)", "--output"
            ),
            Setting("report.language", "text", None, "language of messages (default: from the locale)", "--lang"),
            Setting("report.sinks", "sinks", (), 'extra copies of each report, as "FORMAT:FILE" (written atomically)'),
            Setting(
                "privacy.home_paths",
                "choice",
                "hide",
                "paths inside home folders: hide (left out), tilde (~/…, no user name) or show",
                choices=("hide", "tilde", "show"),
            ),
            Setting(
                "login.delay",
                "duration",
                10,
                "login: wait a random time up to this before checking",
                "--delay",
                maximum=_DAY,
            ),
            Setting(
                "login.interval",
                "duration",
                3600,
                "login: skip the run if the last one is more recent",
                maximum=366 * _DAY,
            ),
            Setting("login.notify", "bool", True, "login: show a desktop notification when something is owed"),
            Setting(
                "login.history",
                "count",
                10,
                "login: how many past reports to keep in the state folder",
                maximum=10_000,
            ),
        )
    )
    return _table[0]


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


class Origin(Record):
    __slots__ = ("level", "where")

    level: str  # managed, command line, environment, user, machine, default
    where: str | None  # the file, variable, registry key or option

    def __init__(self, level: str, where: str | None = None) -> None:
        self._set(locals())

    def __str__(self) -> str:
        return f"{self.level}: {self.where}" if self.where else self.level


class Places(Record):
    """Where the configuration is looked for (tests and ``config show`` name other places)."""

    __slots__ = ("machine", "user", "managed", "registry")

    machine: str | None  # the machine's config.toml
    user: str | None  # the user's config.toml, or the file --config / CLIENTCHECK_CONFIG names
    managed: str | None  # the managed policy file (TOML, or a plist on macOS)
    registry: Registry | None  # Windows: where the policy keys are read

    def __init__(
        self, machine: str | None, user: str | None, managed: str | None, registry: Registry | None = None
    ) -> None:
        self._set(locals())


def given_options(parsed: Mapping[str, Any]) -> dict[str, Any]:
    """The settings the command line gave, by option (``{"--rules": …}``), from the parser's values."""
    from clientcheck.arguments import dest_of

    given: dict[str, Any] = {}
    for setting in _settings():
        if setting.option is not None and parsed.get(dest_of(setting.option)) is not None:
            given[setting.option] = parsed[dest_of(setting.option)]
    return given


def default_places(platform: str, env: Mapping[str, str], config_file: str | None = None) -> Places:
    from clientcheck import dirs

    user_dir = dirs.user_config_dir(platform, env)
    separator = "\\" if platform == "windows" else "/"
    user = config_file or env.get("CLIENTCHECK_CONFIG") or (f"{user_dir}{separator}config.toml" if user_dir else None)
    registry = None
    if platform == "windows":
        from clientcheck.inspect.registry import LiveRegistry

        registry = LiveRegistry()
    return Places(
        machine=f"{dirs.site_config_dir(platform, env)}{separator}config.toml",
        user=user,
        managed=dirs.managed_config_path(platform),
        registry=registry,
    )


class Settings:
    """The effective value of every setting, where each came from, and what the reader should be told."""

    def __init__(self, values: dict[str, Any], origins: dict[str, Origin], notes: list[str]) -> None:
        self.values = values
        self.origins = origins
        self.notes = notes

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


def load_settings(
    platform: str,
    env: Mapping[str, str],
    command_line: Mapping[str, Any],
    places: Places,
    *,
    user_file_required: bool = False,
) -> Settings:
    """The settings in force. ``command_line`` maps option names (``--rules``) to the values given.

    Raises ``ConfigError`` for a configuration that cannot be read or names an unknown setting."""
    settings = _settings()
    by_name = {setting.name: setting for setting in settings}
    values: dict[str, Any] = {setting.name: setting.default for setting in settings}
    origins = {setting.name: Origin("default") for setting in settings}
    layers: list[tuple[Origin, dict[str, Any]]] = []  # lowest precedence first
    for level, path, required in (
        ("machine", places.machine, False),
        ("user", places.user, user_file_required),
    ):
        if path:
            layers.append((Origin(level, path), _toml_layer(path, by_name, required=required)))
    layers.append((Origin("environment"), _environment_layer(env, by_name)))
    by_option = {setting.option: setting for setting in settings if setting.option}
    layers.append((Origin("command line"), {by_option[option].name: value for option, value in command_line.items()}))
    managed_layers = _managed_layers(platform, places, by_name)
    for origin, layer in layers:
        for name, value in layer.items():
            values[name] = value
            where = origin.where
            if origin.level == "environment":
                where = by_name[name].env_name
            elif origin.level == "command line":
                where = by_name[name].option
            origins[name] = Origin(origin.level, where)
    for origin, layer in reversed(managed_layers):  # the lowest managed layer first, so the highest wins
        for name, value in layer.items():
            values[name] = value
            origins[name] = origin
    notes = [
        f"{option} is ignored: {name} is set by managed policy ({origins[name].where})"
        for option, value in command_line.items()
        for name in (by_option[option].name,)
        if origins[name].level == "managed" and values[name] != value
    ]
    return Settings(values, origins, notes)


def _managed_layers(platform: str, places: Places, by_name: dict[str, Setting]) -> list[tuple[Origin, dict[str, Any]]]:
    """Managed policy, highest precedence first."""
    layers: list[tuple[Origin, dict[str, Any]]] = []
    if places.registry is not None:
        from clientcheck import dirs

        for key in dirs.WINDOWS_POLICY_KEYS:
            layer = _registry_layer(places.registry, key, by_name)
            if layer:
                layers.append((Origin("managed", key), layer))
    if places.managed:
        if places.managed.endswith(".plist"):
            layer = _plist_layer(places.managed, by_name)
        else:
            layer = _toml_layer(places.managed, by_name, required=False)
        if layer:
            layers.append((Origin("managed", places.managed), layer))
    return layers


MAX_CONFIG_BYTES = 1024 * 1024


def _read(path: str, required: bool) -> bytes | None:
    """A configuration file's bytes; None for a missing optional one. Only a regular file is read: a FIFO
    in place of the user's config.toml must not hang every login."""
    from clientcheck.reading import FileProblem, read_file

    try:
        return read_file(path, MAX_CONFIG_BYTES)
    except FileProblem as problem:
        if problem.missing and not required:
            return None
        if problem.missing:
            raise ConfigError(f"{path}: no such file") from None
        if problem.reason.startswith("larger than"):
            raise ConfigError(f"{path}: {problem.reason}: not a configuration file") from None
        raise ConfigError(f"{path}: {problem.reason}") from None


def _toml_layer(path: str, by_name: dict[str, Setting], *, required: bool) -> dict[str, Any]:
    data = _read(path, required)
    if data is None:
        return {}
    from clientcheck.tomlread import TomlError, parse

    try:
        document = parse(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start})", hint="save it as UTF-8") from None
    except TomlError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return _anchored(_checked(_flatten(document, path), path, by_name), os.path.dirname(os.path.abspath(path)))


def _anchored(layer: dict[str, Any], folder: str) -> dict[str, Any]:
    """Relative paths in a file are relative to that file's folder, not to wherever a run starts (the
    login entries start in the program's folder, a person in their own)."""

    def anchor(value: str) -> str:
        return value if os.path.isabs(value) or "://" in value else os.path.join(folder, value)

    for name in ("rules.source", "rules.ca_bundle", "report.output"):
        if name in layer:
            layer[name] = anchor(layer[name])
    key = layer.get("rules.key")
    if key is not None and os.path.isfile(anchor(key)):  # a key file, not the key itself (as the rules read it)
        layer["rules.key"] = anchor(key)
    if "report.sinks" in layer:
        layer["report.sinks"] = tuple((name, anchor(path)) for name, path in layer["report.sinks"])
    return layer


def _flatten(document: dict[str, Any], where: str) -> dict[str, Any]:
    """``{"rules": {"source": …}}`` (and ``{"rules.source": …}``, as plists and registries may hold it) to
    ``{"rules.source": …}``."""
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            for inner, item in value.items():
                if isinstance(item, dict):
                    raise ConfigError(f"{where}: {key}.{inner}: unknown setting (settings are two levels deep)")
                flat[f"{key}.{inner}"] = item
        else:
            flat[key] = value
    return flat


def _checked(
    flat: dict[str, Any], where: str, by_name: dict[str, Setting], *, from_text: bool = False
) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for name, raw in flat.items():
        setting = by_name.get(name)
        if setting is None:
            raise ConfigError(f"{where}: {name}: unknown setting", hint=_suggestion(name, by_name))
        layer[name] = _convert(setting, raw, where, from_text=from_text)
    return layer


def _suggestion(name: str, by_name: Mapping[str, Setting]) -> str:
    import difflib  # only on this error path

    close = difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]}?"
    return "known settings: " + ", ".join(by_name)


def _environment_layer(env: Mapping[str, str], by_name: dict[str, Setting]) -> dict[str, Any]:
    by_variable = {setting.env_name: setting for setting in by_name.values()}
    layer: dict[str, Any] = {}
    for variable, text in env.items():
        if not variable.startswith("CLIENTCHECK_") or variable in OTHER_VARIABLES:
            continue
        if variable.startswith(BUILD_VARIABLES):
            continue
        setting = by_variable.get(variable)
        if setting is None:
            import difflib

            close = difflib.get_close_matches(variable, list(by_variable), n=1, cutoff=0.6)
            raise ConfigError(
                f"environment variable {variable}: not a clientcheck setting",
                hint=f"did you mean {close[0]}?" if close else "known: " + ", ".join(by_variable),
            )
        if text == "" and setting.name == "rules.key":
            # Elsewhere an empty variable unsets a setting; here that would silently turn signature checks
            # off (a fleet script's CLIENTCHECK_RULES_KEY="$KEY" with $KEY never filled in).
            raise ConfigError(
                f"environment variable {variable}: empty: signature checks cannot be turned off this way",
                hint=f"give the publisher's key, or unset {variable}",
            )
        if text == "":
            continue  # an empty variable is the usual way to unset one
        layer[setting.name] = _convert(setting, text, f"environment variable {variable}", from_text=True)
    return layer


def _registry_layer(registry: Registry, key: str, by_name: dict[str, Setting]) -> dict[str, Any]:
    """Values under the policy key: ``rules.source`` as a value name, or ``source`` in a ``rules`` subkey (the
    shape Group Policy templates write)."""
    document: dict[str, Any] = {}
    for name, value in (registry.values(key) or {}).items():
        if name:  # the key's unnamed default value carries nothing
            document[name] = value
    for section in registry.subkeys(key):
        document[section] = dict(registry.values(f"{key}\\{section}") or {})
    # Policy editors often write every value as a string (REG_SZ "1"): read them as the environment's are.
    return _checked(_flatten(document, key), key, by_name, from_text=True)


def _plist_layer(path: str, by_name: dict[str, Setting]) -> dict[str, Any]:
    data = _read(path, False)
    if data is None:
        return {}
    import plistlib

    try:
        document = plistlib.loads(data)
    except Exception as error:  # plistlib raises several kinds for a damaged file
        raise ConfigError(f"{path}: not a property list: {error}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: not a dictionary of settings")
    for key in document:
        if not isinstance(key, str):  # a binary plist's keys may be numbers or dates
            raise ConfigError(f"{path}: {_shown(key)}: unknown setting (a setting's name is text)")
    # Configuration profiles add their own bookkeeping keys (PayloadUUID, PayloadType, …) to the domain's file.
    document = {key: value for key, value in document.items() if not key.startswith("Payload")}
    return _checked(_flatten(document, path), path, by_name)


def _convert(setting: Setting, raw: Any, where: str, *, from_text: bool = False) -> Any:
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
        raise ConfigError(f"{problem}: expected true or false, got {_shown(raw)}")
    if kind in ("count", "duration"):
        number: int | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            if raw < 0:
                raise ConfigError(f"{problem}: must not be negative, got {_shown(raw)}")
            number = raw
        elif isinstance(raw, str) and (from_text or kind == "duration"):
            number = parse_duration(raw) if kind == "duration" else _count(raw)
        if number is not None:
            too_large = over_maximum(setting, number)
            if too_large:
                raise ConfigError(f"{problem}: {too_large}, got {_shown(raw)}")
            return number
        expected = "a duration like 30s, 15m, 4h or 1d, or seconds" if kind == "duration" else "a whole number"
        raise ConfigError(f"{problem}: expected {expected}, got {_shown(raw)}")
    if kind == "sinks":
        items = raw.split(";") if isinstance(raw, str) and from_text else raw
        if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
            raise ConfigError(f'{problem}: expected a list of "FORMAT:FILE" strings, got {_shown(raw)}')
        return tuple(_sink(item.strip(), problem) for item in items if item.strip())
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{problem}: expected a non-empty string, got {_shown(raw)}")
    if setting.choices and raw not in setting.choices:
        raise ConfigError(f"{problem}: {_shown(raw)} is not one of {', '.join(setting.choices)}")
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
        setting = next(item for item in _settings() if item.name == setting)
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


def _shown(raw: Any) -> str:
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

    shown = reprlib.Repr()
    shown.maxlevel, shown.maxstring, shown.maxother = 3, 80, 80
    try:
        return shown.repr(raw)
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
    from clientcheck.render import FORMATS

    format_name, colon, path = item.partition(":")
    if not colon or format_name not in FORMATS or not path.strip():
        raise ConfigError(
            f"{problem}: {item!r} is not FORMAT:FILE",
            hint=f"like json:/var/lib/clientcheck/report.json; formats: {', '.join(FORMATS)}",
        )
    return format_name, path.strip()


def describe(settings: Settings, places: Places) -> str:
    """``config show``: the settings in force as a TOML file, each with where its value came from."""
    import json

    lines = ["# clientcheck settings in force, highest precedence first:"]
    lines.append("#   managed policy: " + ", ".join(_managed_names(places)))
    lines.append("#   command line, then environment (CLIENTCHECK_SECTION_KEY)")
    for level, path in (("user", places.user), ("machine", places.machine)):
        state = "" if path is None else (" (present)" if path and os.path.exists(path) else " (not present)")
        lines.append(f"#   {level}: {path or 'none (no home folder in the environment)'}{state}")
    section = ""
    for setting in _settings():
        head, _, key = setting.name.partition(".")
        if head != section:
            lines += ["", f"[{head}]"]
            section = head
        value = settings.values[setting.name]
        origin = settings.origins[setting.name]
        if value is None:
            lines.append(f"# {key} is not set  # {origin}; {setting.help}")
            continue
        if setting.kind == "sinks":
            value = [f"{name}:{path}" for name, path in value]
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}  # {origin}")
    return "\n".join(lines) + "\n" + "".join(f"# note: {note}\n" for note in settings.notes)


def as_json(settings: Settings) -> dict[str, Any]:
    """``config show --format json``: each setting's value and origin."""
    result: dict[str, Any] = {}
    for setting in _settings():
        value = settings.values[setting.name]
        if setting.kind == "sinks":
            value = [f"{name}:{path}" for name, path in value]
        origin = settings.origins[setting.name]
        result[setting.name] = {"value": value, "origin": origin.level, "where": origin.where}
    return result


def _managed_names(places: Places) -> list[str]:
    from clientcheck import dirs

    names = list(dirs.WINDOWS_POLICY_KEYS) if places.registry is not None else []
    if places.managed:
        names.append(places.managed + (" (present)" if os.path.exists(places.managed) else " (not present)"))
    return names or ["none"]
