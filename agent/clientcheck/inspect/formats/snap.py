"""snapd's ``meta/snap.yaml``: only the top-level scalar keys we need, without a YAML library."""

from __future__ import annotations

import re

_TOP_LEVEL = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):[ \t]*(.*)")


def top_level_scalars(text: str) -> dict[str, str]:
    """Top-level ``key: value`` pairs of a snap.yaml, with YAML quoting removed. Nested blocks, lists and
    block scalars are skipped: snapd writes ``name``, ``version`` and ``base`` as plain scalars."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line[0] in " \t#-":
            continue
        match = _TOP_LEVEL.fullmatch(line.rstrip())
        if match is None:
            continue
        key, value = match.group(1), match.group(2).strip()
        if value[:1] in ("'", '"'):
            closing = value.find(value[0], 1)
            rest = value[closing + 1 :].strip() if closing != -1 else "unbalanced"
            if rest and not rest.startswith("#"):
                continue  # an unbalanced quote, or text after it: not a plain scalar
            value = value[1:closing]
        elif value[:1] in ("|", ">", "[", "{", "&", "*", "!"):
            continue  # a structure or block scalar: not a plain scalar
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if value:
            values.setdefault(key, value)
    return values
