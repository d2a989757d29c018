"""Template helpers: asset URLs that change when the file does, query strings for links that keep the
list's filters, and host data written so that control characters are seen, not obeyed."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import template
from django.http import HttpRequest

from clientcheck_server.core.tables import printable
from clientcheck_server.dashboard import assets

register = template.Library()


@register.simple_tag
def asset(name: str) -> str:
    return assets.url(name)


@register.filter
def visible(value: object) -> str:
    """Host data as text: terminal escapes and other control characters are written out (``\\x1b``), so
    what a host sent reads the same on any screen (HTML escaping still follows, as for every value)."""
    if value is None or value == "":
        return ""
    return printable(value)


@register.simple_tag(takes_context=True)
def query(context: dict[str, Any], **changes: object) -> str:
    """This page's query string with some parameters changed (None or "" removes one); paging cursors go
    whenever anything else changes."""
    request: HttpRequest = context["request"]
    params: list[tuple[str, str]] = []
    # A new page drops the other cursor; any other change starts again from the first page.
    drop = set(changes) | {"after", "before"}
    for key, values in request.GET.lists():
        if key not in drop:
            params += [(key, value) for value in values if value != ""]
    for key, value in changes.items():
        if value not in (None, ""):
            params.append((key, str(value)))
    return "?" + urlencode(params) if params else "?"


@register.filter
def percent(value: float | None) -> str:
    return "\N{EN DASH}" if value is None else f"{value:.1f} %"


@register.filter
def days_since(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    from django.utils import timezone

    days = (timezone.now() - value).days
    return "today" if days <= 0 else f"{days} day{'s' if days != 1 else ''}"


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)
