"""The report schema the agent publishes, read from the installed clientcheck package (never a copy that
could drift) and compiled once per process with fastjsonschema: about 0.3 ms a report here against 5.8 ms
for jsonschema's validator (docs/server.md)."""

from __future__ import annotations

import functools
import importlib.resources
import json
from collections.abc import Callable
from typing import Any

from clientcheck_server.ingest.envelope import RefusedError


@functools.cache
def report_schema() -> dict[str, Any]:
    text = importlib.resources.files("clientcheck").joinpath("data/report.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator() -> Callable[[Any], Any]:
    import fastjsonschema

    # The schema names draft 2020-12; what it uses ($ref into $defs, oneOf, const, enum, pattern, formats)
    # means the same in draft 7, which fastjsonschema compiles.
    schema = {key: value for key, value in report_schema().items() if key != "$schema"}
    validate: Callable[[Any], Any] = fastjsonschema.compile(schema)
    return validate


def check_report(report: Any) -> None:
    """Refuse a report that does not follow ``clientcheck.report/1``, saying where and why (422)."""
    import fastjsonschema

    try:
        _validator()(report)
    except fastjsonschema.JsonSchemaValueException as error:
        where = error.name.replace("data", "report", 1) if error.name else "report"
        message = str(error.message).replace(error.name or "data", where, 1) if error.message else "invalid"
        raise RefusedError(422, "schema", f"{where}: {message}"[:500]) from None
