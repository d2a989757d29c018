"""Findings (or the inventory) as CSV, one row per finding (or installation) under a header row.

Written by the ``csv`` module: RFC 4180 quoting (a field holding a comma, quote or line break is quoted,
quotes doubled) and ``\\r\\n`` line ends, as spreadsheets and ``csv.reader`` expect. An absent value is an
empty field.

Names and messages come from the inspected machine (a desktop file any user can write) and from the rule
file. A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel and
LibreOffice ("CSV injection"), so such a cell gets a leading ``'``, as OWASP advises: the spreadsheet shows
the text, and a reader of the file sees exactly what was changed. No real version, id or date starts so.

The column ``kind`` says what a row is: ``finding``; ``unreadable``, a place that could not be read and may
hide an installation (its path as the name, status ``unknown``: the summary's reason); or ``rules``, a note
about the rules that judged the report (expired, fallen back, dated after today). Rows other than findings
come after them, so a reader of the first columns alone still reads findings first. After it, columns added
later, so that every earlier column keeps its place: ``days_left`` and ``step`` of a finding in grace (how
many days until it is owed, counted from the machine's own date, and the stepped warning in force).
"""

from __future__ import annotations

import csv
import io

from clientcheck.model import Installation, days_left
from clientcheck.render import words
from clientcheck.visible import visible

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck import dates as dt
    from clientcheck.model import Inventory, Report

REPORT_COLUMNS = (
    "rule",
    "product",
    "name",
    "status",
    "severity",
    "installed",
    "required",
    "deadline",
    "message",
    "url",
    "remedy",
    "restart",
    "kind",
    "days_left",
    "step",
)
INVENTORY_COLUMNS = Installation.__slots__  # every field of an installation, in the model's order


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    isoformat = getattr(value, "isoformat", None)  # a deadline: ISO 8601, as in the JSON report
    # Control characters are written out (a quoted line break is fine: the csv module quotes the cell).
    text = visible(str(isoformat()) if callable(isoformat) else str(value))
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _table(columns: tuple[str, ...], rows: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)  # the "excel" dialect: minimal quoting, "\r\n" after every row
    writer.writerow(columns)
    writer.writerows([_cell(row.get(column)) for column in columns] for row in rows)
    return out.getvalue()


def _fields(record: object, columns: tuple[str, ...]) -> dict[str, object]:
    return {column: getattr(record, column) for column in columns}


def render_report(report: Report) -> str:
    finding_columns = tuple(column for column in REPORT_COLUMNS if column != "kind")
    rows = [
        {**_fields(finding, finding_columns), "kind": "finding", "days_left": days_left(finding, report.as_of)}
        for finding in report.findings
    ]
    rows += [
        {"kind": "unreadable", "name": item.path, "status": "unknown", "message": item.sentence}
        for item in report.inventory.unreadable
    ]
    rows += [{"kind": "rules", "name": report.rules.source, "message": note} for note in words.rules_notes(report)]
    return _table(REPORT_COLUMNS, rows)


def render_inventory(inventory: Inventory, generated_at: dt.datetime) -> str:
    return _table(INVENTORY_COLUMNS, [_fields(item, INVENTORY_COLUMNS) for item in inventory.software])
