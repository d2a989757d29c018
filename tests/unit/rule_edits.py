"""Edits of a rule document at a dotted path ("rules.3.minimum"), shared by the validator's and the
schema's tests, which break the design example one way at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Edit = Callable[[dict[str, Any]], None]


def _parent(document: dict[str, Any], path: str) -> tuple[Any, str]:
    *parents, last = path.split(".")
    target: Any = document
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    return target, last


def set_at(path: str, value: Any) -> Edit:
    """An edit that sets the value at ``path``."""

    def edit(document: dict[str, Any]) -> None:
        target, last = _parent(document, path)
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return edit


def delete_at(path: str) -> Edit:
    """An edit that removes the key at ``path``."""

    def edit(document: dict[str, Any]) -> None:
        target, last = _parent(document, path)
        del target[last]

    return edit
