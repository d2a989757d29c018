"""Settings: what a run uses, from the command line, the environment, configuration files and managed policy.

Precedence, highest first: **managed** policy (an administrator's: Windows ``HKLM``/``HKCU\\SOFTWARE\\Policies
\\clientcheck``, macOS ``/Library/Managed Preferences/org.clientcheck.agent.plist``, Linux
``/etc/clientcheck/managed.toml``), the **command line**, the **environment** (``CLIENTCHECK_RULES_SOURCE``…),
the **user**'s ``config.toml``, the **machine**'s ``config.toml``, then the defaults. A managed value locks
the setting: a command-line option that tries to change it is ignored, with a warning.

Every source is checked the same way: a value of the wrong kind is an error naming the file (or variable, or
registry key), the setting and the problem; nothing is silently ignored. An unknown setting is an error in
the user's own files and the environment (a typo must not pass), but only a warning in managed policy: a
fleet runs several agent versions while an administrator rolls a new one out, and a policy written for the
new version must not stop the old ones (exit 78 at every login) over a setting they do not have.

This module reads the sources and layers them; ``table`` declares the settings and converts their values;
``show`` describes the result for ``config show``. Settings sit low in the package: they import neither the
command line, nor the renderers, nor inspection (the Windows registry they read is handed to them).
"""

from __future__ import annotations

import os

from clientcheck.config.table import BUILD_VARIABLES, OTHER_VARIABLES, SETTINGS, convert, shown
from clientcheck.errors import ConfigError
from clientcheck.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Protocol

    from clientcheck.config.table import Setting

    class PolicyKeys(Protocol):
        """What the settings read of a registry (``inspect.registry.Registry`` is one)."""

        def subkeys(self, path: str) -> list[str]: ...
        def values(self, path: str) -> dict[str, object] | None: ...


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
    registry: PolicyKeys | None  # Windows: where the policy keys are read

    def __init__(
        self, machine: str | None, user: str | None, managed: str | None, registry: PolicyKeys | None = None
    ) -> None:
        self._set(locals())


def default_places(
    platform: str, env: Mapping[str, str], config_file: str | None = None, registry: PolicyKeys | None = None
) -> Places:
    """The platform's places, for the user the environment names; on Windows, ``registry`` is the one the
    policy keys are read from (the caller opens the live registry: that is inspection's seam)."""
    from clientcheck import dirs

    user_dir = dirs.user_config_dir(platform, env)
    separator = "\\" if platform == "windows" else "/"
    user = config_file or env.get("CLIENTCHECK_CONFIG") or (f"{user_dir}{separator}config.toml" if user_dir else None)
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
    by_name = {setting.name: setting for setting in SETTINGS}
    values: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}
    origins = {setting.name: Origin("default") for setting in SETTINGS}
    layers: list[tuple[Origin, dict[str, Any]]] = []  # lowest precedence first
    for level, path, required in (
        ("machine", places.machine, False),
        ("user", places.user, user_file_required),
    ):
        if path:
            layers.append((Origin(level, path), _toml_layer(path, by_name, required=required)))
    layers.append((Origin("environment"), _environment_layer(env, by_name)))
    by_option = {setting.option: setting for setting in SETTINGS if setting.option}
    layers.append((Origin("command line"), {by_option[option].name: value for option, value in command_line.items()}))
    unknown: list[str] = []
    managed_layers = _managed_layers(platform, places, by_name, unknown)
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
    return Settings(values, origins, unknown + notes)


def _managed_layers(
    platform: str, places: Places, by_name: dict[str, Setting], unknown: list[str]
) -> list[tuple[Origin, dict[str, Any]]]:
    """Managed policy, highest precedence first. A setting this version does not know is left out, with a
    line in ``unknown`` (see the module's note)."""
    layers: list[tuple[Origin, dict[str, Any]]] = []
    if places.registry is not None:
        from clientcheck import dirs

        for key in dirs.WINDOWS_POLICY_KEYS:
            layer = _registry_layer(places.registry, key, by_name, unknown)
            if layer:
                layers.append((Origin("managed", key), layer))
    if places.managed:
        if places.managed.endswith(".plist"):
            layer = _plist_layer(places.managed, by_name, unknown)
        else:
            layer = _toml_layer(places.managed, by_name, required=False, unknown=unknown)
        if layer:
            layers.append((Origin("managed", places.managed), layer))
    return layers


MAX_CONFIG_BYTES = 1024 * 1024


def _read(path: str, required: bool) -> bytes | None:
    """A configuration file's bytes; None for a missing optional one. Only a regular file is read: a FIFO
    in place of the user's config.toml must not hang every login. A file another user could have written
    is refused: settings decide where the rules come from and which key must sign them."""
    from clientcheck.reading import FileProblem, read_file

    try:
        return read_file(path, MAX_CONFIG_BYTES, settings=True)
    except FileProblem as problem:
        if problem.missing and not required:
            return None
        if problem.missing:
            raise ConfigError(f"{path}: no such file") from None
        if problem.reason.startswith("larger than"):
            raise ConfigError(f"{path}: {problem.reason}: not a configuration file") from None
        raise ConfigError(f"{path}: {problem.reason}") from None


def _toml_layer(
    path: str, by_name: dict[str, Setting], *, required: bool, unknown: list[str] | None = None
) -> dict[str, Any]:
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
    return _anchored(
        _checked(_flatten(document, path, unknown), path, by_name, unknown=unknown),
        os.path.dirname(os.path.abspath(path)),
    )


def _anchored(layer: dict[str, Any], folder: str) -> dict[str, Any]:
    """Relative paths in a file are relative to that file's folder, not to wherever a run starts (the
    login entries start in the program's folder, a person in their own)."""

    def anchor(value: str) -> str:
        return value if os.path.isabs(value) or "://" in value else os.path.join(folder, value)

    for name in ("rules.source", "rules.ca_bundle", "report.output", "report.enroll_secret", "report.ca_bundle"):
        if name in layer:
            layer[name] = anchor(layer[name])
    key = layer.get("rules.key")
    if key is not None and os.path.isfile(anchor(key)):  # a key file, not the key itself (as the rules read it)
        layer["rules.key"] = anchor(key)
    if "report.sinks" in layer:
        layer["report.sinks"] = tuple((name, anchor(path)) for name, path in layer["report.sinks"])
    return layer


def _flatten(document: dict[str, Any], where: str, unknown: list[str] | None = None) -> dict[str, Any]:
    """``{"rules": {"source": …}}`` (and ``{"rules.source": …}``, as plists and registries may hold it) to
    ``{"rules.source": …}``. A table three levels deep is no setting: an error, or, with ``unknown`` (managed
    policy), a line there."""
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            for inner, item in value.items():
                if isinstance(item, dict):
                    problem = f"{where}: {key}.{inner}: unknown setting (settings are two levels deep)"
                    if unknown is None:
                        raise ConfigError(problem)
                    unknown.append(_ignored(problem))
                    continue
                flat[f"{key}.{inner}"] = item
        else:
            flat[key] = value
    return flat


def _checked(
    flat: dict[str, Any],
    where: str,
    by_name: dict[str, Setting],
    *,
    from_text: bool = False,
    unknown: list[str] | None = None,
) -> dict[str, Any]:
    """The layer's values in their settings' kinds. An unknown setting is an error, or, with ``unknown``
    (managed policy), a line there and left out."""
    layer: dict[str, Any] = {}
    for name, raw in flat.items():
        setting = by_name.get(name)
        if setting is None:
            if unknown is None:
                raise ConfigError(f"{where}: {name}: unknown setting", hint=_suggestion(name, by_name))
            hint = _suggestion(name, by_name)
            close = f" ({hint})" if hint.startswith("did you mean") else ""
            unknown.append(_ignored(f"{where}: {name}: unknown setting{close}"))
            continue
        layer[name] = convert(setting, raw, where, from_text=from_text)
    return layer


def _ignored(problem: str) -> str:
    from clientcheck import __version__

    return f"{problem}: ignored by clientcheck {__version__}, which does not have it (a newer version's policy?)"


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
        layer[setting.name] = convert(setting, text, f"environment variable {variable}", from_text=True)
    return layer


def _registry_layer(registry: PolicyKeys, key: str, by_name: dict[str, Setting], unknown: list[str]) -> dict[str, Any]:
    """Values under the policy key: ``rules.source`` as a value name, or ``source`` in a ``rules`` subkey (the
    shape Group Policy templates write)."""
    document: dict[str, Any] = {}
    for name, value in (registry.values(key) or {}).items():
        if name:  # the key's unnamed default value carries nothing
            document[name] = value
    for section in registry.subkeys(key):
        document[section] = dict(registry.values(f"{key}\\{section}") or {})
    # Policy editors often write every value as a string (REG_SZ "1"): read them as the environment's are.
    return _checked(_flatten(document, key, unknown), key, by_name, from_text=True, unknown=unknown)


def _plist_layer(path: str, by_name: dict[str, Setting], unknown: list[str]) -> dict[str, Any]:
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
            raise ConfigError(f"{path}: {shown(key)}: not a setting's name (a setting's name is text)")
    # Configuration profiles add their own bookkeeping keys (PayloadUUID, PayloadType, …) to the domain's file.
    document = {key: value for key, value in document.items() if not key.startswith("Payload")}
    return _checked(_flatten(document, path, unknown), path, by_name, unknown=unknown)
