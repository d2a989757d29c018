"""The autostart templates (the package's ``data/autostart``) and how values are put into them.

A template names its values as ``${name}``. Substitution is one pass over the template, so a value that
itself contains ``${…}`` (a folder name can) is copied as it is, never expanded again. Each caller escapes
its values for the file's own format first; nothing here knows about quoting.
"""

from __future__ import annotations

import os

from clientcheck import DATA_DIR
from clientcheck.errors import ClientcheckError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

TEMPLATE_DIR = os.path.join(DATA_DIR, "autostart")


class TemplateError(ClientcheckError):
    """A template is missing or does not match the code that fills it: a broken installation."""


def read_template(name: str) -> str:
    path = os.path.join(TEMPLATE_DIR, name)
    try:
        with open(path, encoding="utf-8") as stream:
            return stream.read()
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(f"cannot read the template {path}: {error}", hint="reinstall clientcheck") from None


def placeholders(text: str) -> list[str]:
    """The names of the ``${name}`` placeholders in ``text``, in order (repeats included)."""
    names = []
    start = text.find("${")
    while start != -1:
        end = text.find("}", start + 2)
        if end == -1:
            break
        names.append(text[start + 2 : end])
        start = text.find("${", end + 1)
    return names


def substitute(text: str, values: Mapping[str, str], *, source: str = "template") -> str:
    """``text`` with each ``${name}`` replaced by ``values[name]``: every placeholder must have a value,
    and every value must be used (either mistake means the template and the code disagree)."""
    parts: list[str] = []
    used: set[str] = set()
    position = 0
    start = text.find("${")
    while start != -1:
        end = text.find("}", start + 2)
        if end == -1:
            break
        name = text[start + 2 : end]
        if name not in values:
            raise TemplateError(f"{source}: no value for ${{{name}}}", hint="reinstall clientcheck")
        parts.append(text[position:start])
        parts.append(values[name])
        used.add(name)
        position = end + 1
        start = text.find("${", position)
    parts.append(text[position:])
    unused = sorted(set(values) - used)
    if unused:
        raise TemplateError(f"{source}: no place for {', '.join(unused)}", hint="reinstall clientcheck")
    return "".join(parts)


def render(name: str, values: Mapping[str, str]) -> str:
    return substitute(read_template(name), values, source=name)


def render_plist(name: str, strings: Mapping[str, str], lists: Mapping[str, Sequence[str]]) -> bytes:
    """A property list from a template: loaded with plistlib, filled in, written back with plistlib (which
    does the XML escaping).

    A string that is exactly ``${name}`` inside an array, with ``name`` in ``lists``, stands for all of
    that list's items (a command's arguments); other ``${name}`` take a value from ``strings``.
    """
    import plistlib

    try:
        document = plistlib.loads(read_template(name).encode("utf-8"))
    except (plistlib.InvalidFileException, ValueError) as error:
        raise TemplateError(f"{name}: not a property list: {error}", hint="reinstall clientcheck") from None
    used: set[str] = set()

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            names = placeholders(value)
            used.update(names)
            return substitute(value, {key: strings[key] for key in names if key in strings}, source=name)
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            items: list[Any] = []
            for item in value:
                if isinstance(item, str) and item.startswith("${") and item.endswith("}") and item[2:-1] in lists:
                    used.add(item[2:-1])
                    items.extend(lists[item[2:-1]])
                else:
                    items.append(fill(item))
            return items
        return value

    filled = fill(document)
    unused = sorted((set(strings) | set(lists)) - used)
    if unused:
        raise TemplateError(f"{name}: no place for {', '.join(unused)}", hint="reinstall clientcheck")
    return plistlib.dumps(filled, fmt=plistlib.FMT_XML, sort_keys=False)
