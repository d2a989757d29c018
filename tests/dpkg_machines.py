"""Debian machines with as many packages as a test or benchmark asks for: the debian-12-desktop fixture
(real browsers and PDF viewers, their desktop entries and ``.list`` files) with its dpkg ``status`` grown to
``count`` stanzas.

The added stanzas are the fixture's own real stanzas under new package names, so the file has dpkg's
fields, their order and real stanza sizes (long Depends, Conffiles and Description fields included), and
it is written as dpkg writes it: sorted by package name, each stanza followed by a blank line. Used by the
tests (a 30,000-package machine) and by bench/packages.py; it imports nothing from clientcheck.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

DEBIAN = Path(__file__).resolve().parent / "fixtures" / "linux" / "debian-12-desktop" / "root"
STATUS = "var/lib/dpkg/status"

# Shapes of Debian package names, so generated names spread over the alphabet and crowd the real ones
# (``firefox-esr`` gets neighbours such as ``firefox-esr-l10n-7``) as on a real machine.
_NAME_SHAPES = ("lib{}{}", "{}-data{}", "python3-{}{}", "{}-l10n-{}", "{}{}-common", "golang-{}{}-dev", "{}-doc{}")


def real_stanzas() -> list[bytes]:
    """The fixture's stanzas, each without its closing blank line."""
    return [stanza for stanza in (DEBIAN / STATUS).read_bytes().split(b"\n\n") if stanza.strip()]


def stanza_name(stanza: bytes) -> bytes:
    return stanza.split(b"\n", 1)[0].removeprefix(b"Package: ")


def grown_status(count: int, *, shuffle: bool = False) -> bytes:
    """A status file of ``count`` stanzas (at least the fixture's own), sorted by name as dpkg writes it,
    or in a random but reproducible order with ``shuffle`` (a file another tool rewrote)."""
    real = real_stanzas()
    stanzas = list(real)
    for number in range(count - len(real)):
        template = real[number % len(real)]
        shape = _NAME_SHAPES[(number // len(real)) % len(_NAME_SHAPES)]
        name = shape.format(stanza_name(template).decode(), number).encode()
        stanzas.append(b"Package: " + name + template[template.index(b"\n") :])
    if shuffle:
        random.Random(count).shuffle(stanzas)  # noqa: S311 - a reproducible order, not a secret
    else:
        stanzas.sort(key=stanza_name)  # dpkg's order: by name (bytes), each name once here
    return b"".join(stanza + b"\n\n" for stanza in stanzas)


def debian_machine(target: Path, count: int, *, shuffle: bool = False) -> Path:
    """The debian-12-desktop tree copied to ``target`` with a status of ``count`` stanzas; returns its root."""
    shutil.copytree(DEBIAN, target, symlinks=True)
    (target / STATUS).write_bytes(grown_status(count, shuffle=shuffle))
    return target
