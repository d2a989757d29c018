"""A small immutable value-object base, used where the standard library's dataclasses would do.

Why not ``dataclasses``: importing it pulls in ``inspect`` and generating each class's methods runs
``exec``; together that cost about 40 ms per run here, twice a bare interpreter's whole start-up, in an
agent that runs at every login. A subclass lists its fields in ``__slots__``, annotates them for type
checkers, and stores them from ``__init__`` with ``self._set(locals())``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    R = TypeVar("R", bound="Record")


class FrozenError(AttributeError):
    pass


class Record:
    __slots__: tuple[str, ...] = ()

    def _set(self, values: dict[str, Any]) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenError(f"{type(self).__name__} is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenError(f"{type(self).__name__} is immutable: cannot delete {name!r}")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)  # noqa: S101 - narrows the type for mypy; checked just above
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def replace(self: R, **changes: Any) -> R:
        """A copy with some fields changed, like ``dataclasses.replace``."""
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        copy = object.__new__(type(self))
        for name, value in values.items():
            object.__setattr__(copy, name, value)
        return copy
