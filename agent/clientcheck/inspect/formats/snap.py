"""snapd's ``meta/snap.yaml``: only the top-level scalar keys we need, without a YAML library."""

from __future__ import annotations

import re

_TOP_LEVEL = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):[ \t]*(.*)")


def top_level_scalars(text: str) -> dict[str, str]:
    """Top-level ``key: value`` pairs of a snap.yaml, with YAML quoting removed. Nested blocks, lists and
    block scalars are skipped: snapd writes ``name``, ``version`` and ``base`` as plain scalars. A plain
    scalar that goes on over more indented lines is read whole, as YAML folds it (``description``)."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    for index, line in enumerate(lines):
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
            if _folded(value, lines, index + 1) is not value:
                continue  # indented lines after a quoted scalar: not a one-line value
        elif value[:1] in ("|", ">", "[", "{", "&", "*", "!"):
            continue  # a structure or block scalar: not a plain scalar
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
            if _folded(value, lines, index + 1) is not value:
                continue
        elif value:
            folded = _folded(value, lines, index + 1)
            if folded is None:
                continue
            value = folded
        if value:
            values.setdefault(key, value)
    return values


def _folded(value: str, lines: list[str], index: int) -> str | None:
    """``value`` with the more indented lines from ``index`` on folded into it as YAML folds a plain
    scalar (joined by a space; a blank line between them kept as a line break); ``value`` itself when no
    indented line follows; None when one ends in a comment (where YAML's rules are not worth copying)."""
    parts = [value]
    breaks = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        index += 1
        if not stripped:
            breaks += 1
            continue
        if line[0] not in " \t" or stripped.startswith("#"):
            break  # the next key, or a comment line, which ends a plain scalar
        if " #" in stripped:
            return None
        parts.append("\n" * breaks if breaks else " ")
        parts.append(stripped)
        breaks = 0
    return value if len(parts) == 1 else "".join(parts)
