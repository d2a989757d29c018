"""``/``: the fleet at a glance, within the user's scope."""

from __future__ import annotations

from dataclasses import asdict

from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.safestring import mark_safe

from clientcheck_server.dashboard import charts, overview
from clientcheck_server.dashboard.access import page, scope_of

TREND_SERIES = (
    charts.Series("owed", "owing updates", "s-owed"),
    charts.Series("due", "updates due", "s-due"),
    charts.Series("unknown", "could not check", "s-unknown"),
    charts.Series("ok", "up to date", "s-ok"),
    charts.Series("none", "no report yet", "s-none"),
)


@page
def overview_page(request: HttpRequest) -> TemplateResponse:
    scope = scope_of(request)
    days = 90 if request.GET.get("days") == "90" else 30
    totals = overview.totals(scope)
    counts = overview.counts(scope)
    serials = totals.serials
    first, last, points = overview.trend(scope, days)
    chart = charts.stacked(
        first,
        last,
        [asdict(point) for point in points],
        TREND_SERIES,
        title=f"Hosts by status, the last {days} days",
        ident="fleet-trend",
    )
    newest = serials[0]["serial"] if serials else None
    return TemplateResponse(
        request,
        "dashboard/overview.html",
        {
            "title": "Overview",
            "nav": "overview",
            "totals": totals,
            "counts": counts,
            "owing_rules": [entry for entry in counts.by_rule if entry["owing"] or entry["due"]],
            "owing_products": [entry for entry in counts.by_product if entry["owing"] or entry["due"]],
            "serials": serials,
            "newest_serial": newest,
            "older_serial_hosts": sum(s["hosts"] for s in serials if s["serial"] != newest),
            "days": days,
            "chart": mark_safe(chart),  # noqa: S308 - numbers of ours and escaped text (charts.stacked)
            "points": points,
            "series": TREND_SERIES,
        },
    )
