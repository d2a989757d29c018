"""The user's language, from the environment as POSIX programs read it."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


def language_from_env(env: Mapping[str, str]) -> str:
    """A language tag (``de``, ``pt-BR``) from LANGUAGE, LC_ALL, LC_MESSAGES or LANG; ``en`` otherwise."""
    candidates = [part for part in env.get("LANGUAGE", "").split(":") if part]
    candidates += [env.get(name, "") for name in ("LC_ALL", "LC_MESSAGES", "LANG")]
    for value in candidates:
        tag = value.split(".")[0].split("@")[0]
        if tag and tag not in ("C", "POSIX"):
            return tag.replace("_", "-")
    return "en"
