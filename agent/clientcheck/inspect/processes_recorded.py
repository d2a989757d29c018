"""Running processes as data: a capture replayed, and the tests of the macOS and Windows logic on Linux."""

from __future__ import annotations

from clientcheck.inspect.processes import ProcessSource, Program

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

    from clientcheck.inspect.processes import SandboxInfo


class RecordedProcesses(ProcessSource):
    """Processes as data: a list of records with ``pid``, ``exe`` and optionally ``deleted``, ``started``,
    ``replaced``, ``loaded``, ``arguments`` and ``sandbox`` (see ``ProcessSource`` for their meaning)."""

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        self._records: dict[int, Mapping[str, Any]] = {}
        self._programs: list[Program] = []
        for record in records:
            pid, exe = record.get("pid"), record.get("exe")
            if not isinstance(pid, int) or not isinstance(exe, str) or pid in self._records:
                continue
            started = record.get("started")
            self._records[pid] = record
            self._programs.append(
                Program(
                    pid,
                    exe,
                    record.get("deleted") is True,
                    float(started) if isinstance(started, (int, float)) else None,
                )
            )

    @classmethod
    def from_json(cls, text: str) -> RecordedProcesses:
        """From a JSON document ``{"processes": [records]}``; anything else gives no processes."""
        import json

        try:
            document = json.loads(text)
        except ValueError:
            return cls(())
        records = document.get("processes") if isinstance(document, dict) else None
        return cls(item for item in records if isinstance(item, dict)) if isinstance(records, list) else cls(())

    def programs(self) -> list[Program]:
        return list(self._programs)

    def _strings(self, program: Program, key: str) -> tuple[str, ...]:
        values = self._records.get(program.pid, {}).get(key)
        return tuple(value for value in values if isinstance(value, str)) if isinstance(values, list) else ()

    def replaced(self, program: Program) -> bool | None:
        value = self._records.get(program.pid, {}).get("replaced")
        return value if isinstance(value, bool) else None

    def loaded(self, program: Program) -> tuple[str, ...]:
        return self._strings(program, "loaded")

    def arguments(self, program: Program) -> tuple[str, ...]:
        return self._strings(program, "arguments")

    def sandbox(self, program: Program) -> SandboxInfo | None:
        value = self._records.get(program.pid, {}).get("sandbox")
        if not isinstance(value, dict):
            return None
        return {
            str(group): {str(key): str(item) for key, item in keys.items() if isinstance(item, str)}
            for group, keys in value.items()
            if isinstance(keys, dict)
        }
