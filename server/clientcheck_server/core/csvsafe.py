"""CSV that spreadsheets open as data: host names, paths and messages come from the hosts and are not
trusted, so a cell that a spreadsheet would evaluate as a formula (it starts with = + - @, a tab or a
carriage return) gets a leading apostrophe (OWASP's CSV injection advice). Rows are produced one at a
time, so an export of the whole fleet streams without holding it in memory."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterable, Iterator

from asgiref.sync import sync_to_async

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def guard(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)  # a number of ours, never a formula (a negative count does not happen)
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


class _Line:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def rows(header: list[str], records: Iterable[Iterable[object]]) -> Iterator[str]:
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    writer.writerow(header)
    yield line.text
    for record in records:
        writer.writerow([guard(value) for value in record])
        yield line.text


BATCH = 500


def _take(lines: Iterator[str]) -> str:
    return "".join(line for _, line in zip(range(BATCH), lines, strict=False))


async def streamed(lines: Iterator[str]) -> AsyncIterator[str]:
    """The lines for an ASGI response, a batch at a time, each read in the request's thread (where its
    database connection is): Django's ASGI handler would otherwise read a plain iterator whole first."""
    take = sync_to_async(_take, thread_sensitive=True)
    while chunk := await take(lines):
        yield chunk
