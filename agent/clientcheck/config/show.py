"""``clientcheck config show``: the settings in force, each with where its value came from, as a
configuration file (which itself reads back to the same values) or as JSON."""

from __future__ import annotations

import os

from clientcheck.config.table import SETTINGS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from clientcheck.config import Places, Settings


def describe(settings: Settings, places: Places) -> str:
    """The settings in force as a TOML file, each with where its value came from."""
    import json

    lines = ["# clientcheck settings in force, highest precedence first:"]
    lines.append("#   managed policy: " + ", ".join(_managed_names(places)))
    lines.append("#   command line, then environment (CLIENTCHECK_SECTION_KEY)")
    for level, path in (("user", places.user), ("machine", places.machine)):
        state = "" if path is None else (" (present)" if path and os.path.exists(path) else " (not present)")
        lines.append(f"#   {level}: {path or 'none (no home folder in the environment)'}{state}")
    section = ""
    for setting in SETTINGS:
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
    """Each setting's value and origin (``config show --format json``)."""
    result: dict[str, Any] = {}
    for setting in SETTINGS:
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
