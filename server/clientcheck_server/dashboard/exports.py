"""Exports of any list as filtered, in CSV (with the formula guard: host data is untrusted) and JSON, each
streamed: rows are read from the database a chunk at a time and written as they come, so exporting the
whole fleet holds one chunk in memory, never the fleet."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse

from clientcheck_server.core import csvsafe

CHUNK = 500  # rows read from the database at a time


def _streamed(request: HttpRequest, lines: Iterator[str]) -> Any:
    # Under ASGI (serve) Django would read a plain iterator whole before sending: it gets an async one.
    return csvsafe.streamed(lines) if isinstance(request, ASGIRequest) else lines


def _response(request: HttpRequest, lines: Iterator[str], content_type: str, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_streamed(request, lines), content_type=content_type)
    # A rule id in the name comes from the hosts: only plain characters reach the header.
    response["Content-Disposition"] = f'attachment; filename="{re.sub(r"[^A-Za-z0-9._-]", "_", name)}"'
    response["Cache-Control"] = "no-store"
    return response


def csv_response(
    request: HttpRequest, name: str, header: list[str], rows: Iterable[Iterable[object]]
) -> StreamingHttpResponse:
    return _response(request, csvsafe.rows(header, rows), "text/csv; charset=utf-8", f"{name}.csv")


def _json_lines(items: Iterable[Any], render: Callable[[Any], dict[str, Any]]) -> Iterator[str]:
    # One JSON array, an element a line: valid JSON for any reader, and written as it is read.
    yield "["
    first = True
    for item in items:
        text = json.dumps(render(item), ensure_ascii=False, separators=(",", ":"))
        yield ("\n" if first else ",\n") + text
        first = False
    yield "\n]\n"


def json_response(
    request: HttpRequest, name: str, items: Iterable[Any], render: Callable[[Any], dict[str, Any]]
) -> StreamingHttpResponse:
    return _response(request, _json_lines(items, render), "application/json", f"{name}.json")
