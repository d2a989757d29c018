"""Lists that stay fast at any fleet size: filtered, sorted, and paged by keyset.

A page is asked for by a cursor (the sort value and id of the last row seen, or of the first row for the
page before), never by an offset: page 1,000 costs what page 1 costs, and a host added meanwhile is not
shown twice. The cursor is opaque to people (base64 of a small JSON array) and checked when read.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import QueryDict

from clientcheck_server.fleet.filtersets import FilterError, filter_hosts
from clientcheck_server.fleet.models import Host

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Sort:
    key: str  # as in the URL: sort=name
    label: str
    column: str
    descending: bool = False
    nullable: bool = False  # nulls come last whichever way: "owing longest" puts hosts owing nothing last
    kind: str = "text"  # text or time: how a cursor value is read back


HOST_SORTS = {
    sort.key: sort
    for sort in (
        Sort("name", "name, A to Z", "hostname"),
        Sort("-name", "name, Z to A", "hostname", descending=True),
        Sort("owed_since", "owing longest first", "owed_since", nullable=True, kind="time"),
        Sort("-last_seen", "seen most recently first", "last_seen", descending=True, kind="time"),
        Sort("last_seen", "silent longest first", "last_seen", kind="time"),
    )
}

# The filters a host list takes, as the API names them, and the dashboard's own few more.
HOST_FILTERS = (
    "status",
    "rule",
    "product",
    "rule_status",
    "group",
    "platform",
    "stale",
    "archived",
    "flag",
    "search",
    "rules_serial",
    "rules_stale",
    "rules_fallback",
)


def cleaned(params: QueryDict) -> dict[str, str]:
    """The filters asked for, without the empty ones a form sends; a repeated parameter (checkboxes:
    status=owed&status=due) becomes the comma-separated list the filters read."""
    result: dict[str, str] = {}
    for name in HOST_FILTERS:
        values = [value.strip() for value in params.getlist(name) if value.strip()]
        if values:
            result[name] = ",".join(values)
    return result


def _boolean(value: str, name: str) -> bool:
    if value in ("true", "false"):
        return value == "true"
    raise FilterError(f"{name}: say true or false, not {value!r}")


def filter_fleet(queryset: QuerySet[Host], params: dict[str, str]) -> QuerySet[Host]:
    """The API's host filters, and which rules file hosts were judged by."""
    queryset = filter_hosts(queryset, params)
    if serial := params.get("rules_serial"):
        if serial == "-":
            queryset = queryset.filter(rules_serial__isnull=True)
        elif serial.isdigit() and len(serial) < 19:
            queryset = queryset.filter(rules_serial=int(serial))
        else:
            raise FilterError(f"rules_serial: a rule file's serial number, not {serial!r}")
    if stale := params.get("rules_stale"):
        queryset = queryset.filter(rules_stale=_boolean(stale, "rules_stale"))
    if fallback := params.get("rules_fallback"):
        queryset = queryset.filter(rules_fallback=_boolean(fallback, "rules_fallback"))
    return queryset


# ------------------------------------------------------------------------------------------------ cursors


def encode_cursor(value: object, ident: int) -> str:
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.timezone.utc).isoformat()
    raw = json.dumps([value, ident], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_value(value: Any, sort: Sort) -> Any:
    if value is None:
        return None if sort.nullable else _damaged()
    if sort.kind == "time":
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
        return moment if moment is not None and moment.tzinfo is not None else _damaged()
    return value if isinstance(value, str) else _damaged()


def _damaged() -> Any:
    raise FilterError("this page's link is damaged: start again from the first page")


def decode_cursor(text: str, sort: Sort) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        pair = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _damaged()  # type: ignore[no-any-return]
    if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[1], int) or isinstance(pair[1], bool):
        return _damaged()  # type: ignore[no-any-return]
    try:
        return _cursor_value(pair[0], sort), pair[1]
    except ValueError:
        return _damaged()  # type: ignore[no-any-return]


def _after(sort: Sort, value: Any, ident: int, id_field: str) -> Q:
    """Rows after (value, ident) in the sort's order."""
    column = sort.column
    if value is None:  # in the tail of rows without a value: by id
        return Q(**{f"{column}__isnull": True, f"{id_field}__gt": ident})
    beyond = "lt" if sort.descending else "gt"
    condition = Q(**{f"{column}__{beyond}": value}) | Q(**{column: value, f"{id_field}__{beyond}": ident})
    if sort.nullable:
        condition |= Q(**{f"{column}__isnull": True})
    return condition


def _before(sort: Sort, value: Any, ident: int, id_field: str) -> Q:
    """Rows before (value, ident) in the sort's order."""
    column = sort.column
    if value is None:
        return Q(**{f"{column}__isnull": False}) | Q(**{f"{column}__isnull": True, f"{id_field}__lt": ident})
    ahead = "gt" if sort.descending else "lt"
    return Q(**{f"{column}__{ahead}": value}) | Q(**{column: value, f"{id_field}__{ahead}": ident})


def _ordering(sort: Sort, id_field: str, reverse: bool) -> list[Any]:
    descending = sort.descending != reverse
    column = F(sort.column)
    # Nulls last going forward, so first going backward.
    nulls: dict[str, bool] = {}
    if sort.nullable:
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    primary = column.desc(**nulls) if descending else column.asc(**nulls)
    return [primary, f"-{id_field}" if descending else id_field]


@dataclass
class Page:
    items: list[Any]
    next: str | None  # cursor of the following page, or None
    previous: str | None  # cursor of the page before, or None (this is the first)


def keyset_page(
    queryset: QuerySet[Any],
    sort: Sort,
    *,
    after: str | None,
    before: str | None,
    limit: int,
    id_field: str = "id",
    value_of: Any = None,
) -> Page:
    """One page of ``queryset`` in ``sort``'s order: the first, the one after the cursor ``after``, or
    the one before the cursor ``before``."""
    read = value_of or (lambda item: getattr(item, sort.column))

    def ident(item: Any) -> int:
        return int(getattr(item, id_field))

    if before:
        value, key = decode_cursor(before, sort)
        rows = list(
            queryset.filter(_before(sort, value, key, id_field)).order_by(*_ordering(sort, id_field, True))[: limit + 1]
        )
        more_before = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        if not rows:  # nothing before it any more: the first page
            return keyset_page(queryset, sort, after=None, before=None, limit=limit, id_field=id_field)
        return Page(
            rows,
            encode_cursor(read(rows[-1]), ident(rows[-1])),
            encode_cursor(read(rows[0]), ident(rows[0])) if more_before else None,
        )
    query = queryset
    if after:
        value, key = decode_cursor(after, sort)
        query = queryset.filter(_after(sort, value, key, id_field))
    rows = list(query.order_by(*_ordering(sort, id_field, False))[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        rows,
        encode_cursor(read(rows[-1]), ident(rows[-1])) if more and rows else None,
        encode_cursor(read(rows[0]), ident(rows[0])) if after and rows else None,
    )


def page_size(params: QueryDict) -> int:
    try:
        size = int(params.get("size", DEFAULT_PAGE_SIZE))
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
