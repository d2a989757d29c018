"""``/rules``: hosts in each state by rule and by product; ``/rules/RULE``: the hosts that owe a rule (or
are due, or any state asked for), since when, and their deadlines, with the rule's trend."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.utils.safestring import mark_safe

from clientcheck_server.dashboard import charts, exports, listing, overview
from clientcheck_server.dashboard.access import Scope, page, scope_of
from clientcheck_server.dashboard.views.common import FINDING_STATUSES, groups
from clientcheck_server.fleet.api import serializers
from clientcheck_server.fleet.filtersets import FilterError
from clientcheck_server.fleet.models import RuleRollup, RuleState

RULE_SORT = listing.Sort("since", "in this state longest first", "since", kind="time")
DEFAULT_STATUSES = ("owed", "unsupported", "restart", "due")
RULE_SERIES = (
    charts.Series("owed", "owed", "s-owed"),
    charts.Series("unsupported", "out of support", "s-unsupported"),
    charts.Series("restart", "restart needed", "s-restart"),
    charts.Series("due", "due", "s-due"),
    charts.Series("unknown", "could not check", "s-unknown"),
    charts.Series("ok", "up to date", "s-ok"),
)
COLUMNS = [*serializers.HOST_COLUMNS, "rule", *serializers.RULE_STATE_COLUMNS]


@page
def rule_list(request: HttpRequest) -> TemplateResponse:
    counts = overview.counts(scope_of(request))
    return TemplateResponse(
        request,
        "dashboard/rules.html",
        {"title": "Rules", "nav": "rules", "counts": counts, "statuses": FINDING_STATUSES},
    )


@page
def rule_list_export(request: HttpRequest, what: str, fmt: str) -> HttpResponseBase:
    counts = overview.counts(scope_of(request))
    entries = counts.by_rule if what == "rules" else counts.by_product
    header = ["rule" if what == "rules" else "product", "hosts", *FINDING_STATUSES]
    if fmt == "csv":
        return exports.csv_response(request, what, header, ([e[c] for c in header] for e in entries))
    return exports.json_response(request, what, entries, lambda e: {c: e[c] for c in header})


def _states(request: HttpRequest, scope: Scope, rule: str) -> tuple[QuerySet[RuleState], list[str]]:
    chosen = [s for s in request.GET.getlist("status") if s] or list(DEFAULT_STATUSES)
    if any(status not in FINDING_STATUSES for status in chosen):
        raise FilterError(f"status: say one or more of {', '.join(FINDING_STATUSES)}")
    states = scope.scoped(RuleState.objects.select_related("host", "host__group"), "host__").filter(
        rule=rule, host__archived_at__isnull=True, status__in=chosen
    )
    if group := request.GET.get("group"):
        states = states.filter(host__group__isnull=True) if group == "-" else states.filter(host__group__name=group)
    return states, chosen


def _status_counts(scope: Scope, rule: str) -> tuple[dict[str, int], bool]:
    """Hosts in each state of this rule: from the fresh rollup (a handful of rows), else counted now."""
    fresh = overview.fresh_rollup()
    if fresh is not None:
        rows = list(scope.scoped(RuleRollup.objects.filter(day=fresh[0], rule=rule)).values_list(*FINDING_STATUSES))
        return {s: sum(row[i] for row in rows) for i, s in enumerate(FINDING_STATUSES)}, True
    live = dict.fromkeys(FINDING_STATUSES, 0)
    states = scope.scoped(RuleState.objects.filter(rule=rule, host__archived_at__isnull=True), "host__")
    for row in states.values("status").annotate(n=Count("id")):
        live[row["status"]] = row["n"]
    return live, False


@page
def rule_page(request: HttpRequest, rule: str) -> TemplateResponse:
    scope = scope_of(request)
    days = 90 if request.GET.get("days") == "90" else 30
    status_counts, from_rollup = _status_counts(scope, rule)
    first, last, points = overview.rule_trend(scope, rule, days)
    products = sorted(
        set(RuleRollup.objects.filter(rule=rule).values_list("product", flat=True).distinct()[:20])
        | set(RuleState.objects.filter(rule=rule).values_list("product", flat=True)[:1])
    )
    context: dict[str, Any] = {
        "title": f"Rule {rule}",
        "nav": "rules",
        "rule": rule,
        "products": products,
        "status_counts": status_counts,
        "from_rollup": from_rollup,
        "statuses": FINDING_STATUSES,
        "groups": groups(scope),
        "days": days,
        "chart": mark_safe(  # noqa: S308 - numbers of ours and escaped text (charts.stacked)
            charts.stacked(first, last, points, RULE_SERIES, title=f"Hosts by state of rule {rule}", ident="rule-trend")
        ),
        "points": points,
        "series": RULE_SERIES,
    }
    status = 200
    try:
        states, chosen = _states(request, scope, rule)
        context["chosen"] = chosen
        context["page"] = listing.keyset_page(
            states,
            RULE_SORT,
            after=request.GET.get("after"),
            before=request.GET.get("before"),
            limit=listing.page_size(request.GET),
        )
        context["count"] = states.count()
    except FilterError as error:
        context.update(error=str(error), page=None, count=0, chosen=[])
        status = 400
    return TemplateResponse(request, "dashboard/rule.html", context, status=status)


def _row(state: RuleState) -> list[object]:
    data = serializers.rule_state(state)
    return [*serializers.host_row(state.host), state.rule, *(data.get(c) for c in serializers.RULE_STATE_COLUMNS)]


def _item(state: RuleState) -> dict[str, Any]:
    data = serializers.host(state.host)
    data["finding"] = serializers.rule_state(state)
    return data


@page
def rule_export(request: HttpRequest, rule: str, fmt: str) -> HttpResponseBase:
    scope = scope_of(request)
    try:
        states, _ = _states(request, scope, rule)
    except FilterError as error:
        return TemplateResponse(
            request, "dashboard/error.html", {"title": "Export refused", "message": str(error)}, status=400
        )
    items = states.order_by("host_id").iterator(chunk_size=exports.CHUNK)
    if fmt == "csv":
        return exports.csv_response(request, f"rule-{rule}-hosts", COLUMNS, map(_row, items))
    return exports.json_response(request, f"rule-{rule}-hosts", items, _item)
