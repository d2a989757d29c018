"""dpkg's database: ``/var/lib/dpkg/status`` stanzas and ``info/<package>.list`` file lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class DpkgPackage:
    name: str
    version: Optional[str]  # None when the stanza has no Version (a truncated or damaged file)
    architecture: Optional[str]
    multi_arch: Optional[str]
    installed: bool


def _stanza_fields(stanza: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in stanza.split("\n"):
        if not line or line[0] in " \t":
            continue  # continuation lines belong to multi-line fields we do not need
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key, value.strip())
    return fields


def find_packages(status_text: str, names: Iterable[str]) -> dict[str, DpkgPackage]:
    """The stanzas of the named packages only. A status file is megabytes on a desktop, so instead of
    parsing every stanza we jump to the wanted ones."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    pattern = re.compile(r"^Package: (" + "|".join(re.escape(name) for name in wanted) + r")[ \t]*$", re.MULTILINE)
    found: dict[str, DpkgPackage] = {}
    for match in pattern.finditer(status_text):
        end = status_text.find("\n\n", match.end())
        stanza = status_text[match.start() : end if end != -1 else len(status_text)]
        package = _package(stanza)
        if package is None:
            continue
        previous = found.get(package.name)
        # Several stanzas of one name exist for multi-arch packages or leftovers: prefer an installed one.
        if previous is None or (package.installed and not previous.installed):
            found[package.name] = package
    return found


def _package(stanza: str) -> Optional[DpkgPackage]:
    fields = _stanza_fields(stanza)
    name = fields.get("Package")
    if not name:
        return None
    status_words = fields.get("Status", "").split()
    # "install ok installed", "hold ok installed"; "deinstall ok config-files" is a removed package.
    installed = len(status_words) == 3 and status_words[2] in (
        "installed",
        "half-configured",
        "unpacked",
        "triggers-awaited",
        "triggers-pending",
    )
    return DpkgPackage(
        name=name,
        version=fields.get("Version") or None,
        architecture=fields.get("Architecture"),
        multi_arch=fields.get("Multi-Arch"),
        installed=installed,
    )


def list_contains(list_text: str, path: str) -> bool:
    """Whether a ``.list`` file (one absolute path per line) names ``path``."""
    return f"\n{path}\n" in f"\n{list_text}\n"
