"""dpkg's database: ``/var/lib/dpkg/status`` stanzas and ``info/<package>.list`` file lists."""

from __future__ import annotations

from collections.abc import Iterable

from clientcheck.record import Record

_INSTALLED_STATES = {b"installed", b"half-configured", b"unpacked", b"triggers-awaited", b"triggers-pending"}


class DpkgPackage(Record):
    __slots__ = ("name", "version", "architecture", "installed")

    name: str
    version: str | None  # None when the stanza has no Version (a truncated or damaged file)
    architecture: str | None
    installed: bool

    def __init__(self, name: str, version: str | None, architecture: str | None, installed: bool) -> None:
        self._set(locals())


def _stanza_fields(stanza: bytes) -> dict[bytes, bytes]:
    fields: dict[bytes, bytes] = {}
    for line in stanza.split(b"\n"):
        if not line or line[:1] in (b" ", b"\t"):
            continue  # continuation lines belong to multi-line fields we do not need
        key, sep, value = line.partition(b":")
        if sep:
            fields.setdefault(key, value.strip())
    return fields


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8", errors="replace") if value else None


def find_packages(status: bytes, names: Iterable[str]) -> dict[str, DpkgPackage]:
    """The stanzas of the named packages only. A desktop's status file is megabytes: splitting it at each
    ``Package:`` line is one fast C-level pass, and only the wanted stanzas are parsed."""
    wanted = {name.encode() for name in names}
    found: dict[str, DpkgPackage] = {}
    for chunk in (b"\n" + status).split(b"\nPackage: ")[1:]:
        end = chunk.find(b"\n")
        if chunk[: end if end != -1 else len(chunk)].strip() not in wanted:
            continue
        stanza = chunk.split(b"\n\n", 1)[0]
        package = _package(b"Package: " + stanza)
        previous = found.get(package.name)
        # Several stanzas of one name exist for multi-arch packages or leftovers: prefer an installed one.
        if previous is None or (package.installed and not previous.installed):
            found[package.name] = package
    return found


def _package(stanza: bytes) -> DpkgPackage:
    fields = _stanza_fields(stanza)
    status_words = fields.get(b"Status", b"").split()
    # "install ok installed", "hold ok installed"; "deinstall ok config-files" is a removed package.
    installed = len(status_words) == 3 and status_words[2] in _INSTALLED_STATES
    return DpkgPackage(
        name=_text(fields.get(b"Package")) or "",
        version=_text(fields.get(b"Version")),
        architecture=_text(fields.get(b"Architecture")),
        installed=installed,
    )


def list_contains(list_text: bytes, path: str) -> bool:
    """Whether a ``.list`` file (one absolute path per line) names ``path``."""
    line = path.encode()
    # Compared in place: concatenating newlines around a list file would copy it for every look-up.
    return (
        list_text.startswith(line + b"\n")
        or b"\n" + line + b"\n" in list_text
        or list_text == line
        or list_text.endswith(b"\n" + line)
    )
