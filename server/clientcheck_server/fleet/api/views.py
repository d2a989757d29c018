"""The read API (API tokens): hosts with filters and paging, one host with its history, a rule's hosts,
the rules, the fleet summary; every list also as CSV. Admin tokens may delete a host."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone

from clientcheck_server.accounts.auth import Caller, api_view
from clientcheck_server.core import csvsafe
from clientcheck_server.core.http import answer, client_address, refuse
from clientcheck_server.fleet import removal
from clientcheck_server.fleet.api import serializers
from clientcheck_server.fleet.filtersets import FilterError, filter_hosts
from clientcheck_server.fleet.models import (
    FINDING_STATUSES,
    HOST_STATUSES,
    Host,
    RuleRollup,
    RuleState,
    StateChange,
)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
HISTORY_LIMIT = 500


def _limit(request: HttpRequest) -> int:
    try:
        limit = int(request.GET.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise FilterError("limit must be a number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise FilterError(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def _after(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("after", 0))
    except ValueError:
        raise FilterError("after must be a host id") from None


def _hosts(request: HttpRequest, caller: Caller) -> QuerySet[Host]:
    return filter_hosts(caller.scoped(Host.objects.select_related("group")), request.GET)


def _page(request: HttpRequest, queryset: QuerySet[Any], render: Any) -> HttpResponse:
    """A page of a list ordered by host id: ``after`` (the last id of the previous page) and ``limit``.
    Keyset paging: any page costs the same at 100,000 hosts, and a host added meanwhile is not seen twice."""
    limit, after = _limit(request), _after(request)
    count = queryset.count()
    items = list(
        queryset.filter(**{_id_field(queryset): after} if after else {}).order_by(_order(queryset))[: limit + 1]
    )
    more = len(items) > limit
    items = items[:limit]
    following = None
    if more:
        params = request.GET.copy()
        params["after"] = str(_host_id(items[-1]))
        following = f"{request.path}?{urlencode(sorted(params.items()))}"
    return answer(200, {"count": count, "next": following, "results": [render(item) for item in items]})


def _id_field(queryset: QuerySet[Any]) -> str:
    return "pk__gt" if queryset.model is Host else "host_id__gt"


def _order(queryset: QuerySet[Any]) -> str:
    return "pk" if queryset.model is Host else "host_id"


def _host_id(item: Any) -> int:
    return int(item.pk if isinstance(item, Host) else item.host_id)


def _csv(request: HttpRequest, name: str, header: list[str], rows: Iterator[list[object]]) -> StreamingHttpResponse:
    lines = csvsafe.rows(header, rows)
    # Under ASGI (serve) Django would read a plain iterator whole before sending: it gets an async one.
    content = csvsafe.streamed(lines) if isinstance(request, ASGIRequest) else lines
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _bad_filter(error: FilterError) -> HttpResponse:
    return refuse(400, "bad_filter", str(error))


@api_view()
def hosts(request: HttpRequest, caller: Caller) -> HttpResponse:
    try:
        return _page(request, _hosts(request, caller), serializers.host)
    except FilterError as error:
        return _bad_filter(error)


@api_view()
def hosts_csv(request: HttpRequest, caller: Caller) -> HttpResponseBase:
    try:
        queryset = _hosts(request, caller).order_by("pk")
    except FilterError as error:
        return _bad_filter(error)
    rows = (serializers.host_row(item) for item in queryset.iterator(chunk_size=2000))
    return _csv(request, "hosts.csv", serializers.HOST_COLUMNS, rows)


@api_view(admin_methods=("DELETE",))
def host(request: HttpRequest, caller: Caller, host_id: int) -> HttpResponse:
    item = caller.scoped(Host.objects.select_related("group")).filter(pk=host_id).first()
    if item is None:
        return refuse(404, "not_found", f"no host {host_id}")
    if request.method == "DELETE":
        with transaction.atomic():
            removal.delete_host(item, actor=caller.actor, via="api", address=client_address(request))
        return answer(200, {"deleted": host_id})
    if request.method != "GET":
        return refuse(405, "method", "GET or DELETE", {"Allow": "GET, DELETE"})
    data = serializers.host(item)
    data["hints"] = sorted(item.hints.values_list("hint", flat=True))
    data["rule_states"] = [serializers.rule_state(s) for s in RuleState.objects.filter(host=item).order_by("rule")]
    history = StateChange.objects.filter(host=item).order_by("-at", "-pk")[:HISTORY_LIMIT]
    data["history"] = [serializers.change(change) for change in history]
    latest = getattr(item, "latest", None)
    data["latest_report"] = (
        {
            "report_id": str(latest.report_id),
            "received_at": serializers.moment(latest.received_at),
            "generated_at": serializers.moment(latest.generated_at),
            "content_hash": latest.content_hash,
            "report": latest.report(),
        }
        if latest is not None
        else None
    )
    return answer(200, data)


def _rule_states(request: HttpRequest, caller: Caller, rule: str) -> QuerySet[RuleState]:
    states = caller.scoped(RuleState.objects.select_related("host", "host__group"), "host__").filter(
        rule=rule, host__archived_at__isnull=True
    )
    if status := request.GET.get("status"):
        chosen = [item for item in status.split(",") if item]
        if not chosen or any(item not in FINDING_STATUSES for item in chosen):
            raise FilterError(f"status: say one or more of {', '.join(FINDING_STATUSES)}")
        states = states.filter(status__in=chosen)
    if (group := request.GET.get("group")) is not None:
        states = states.filter(host__group__isnull=True) if group == "-" else states.filter(host__group__name=group)
    return states


def _rule_host(state: RuleState) -> dict[str, Any]:
    data = serializers.host(state.host)
    data["finding"] = serializers.rule_state(state)
    return data


@api_view()
def rule_hosts(request: HttpRequest, caller: Caller, rule: str) -> HttpResponse:
    try:
        return _page(request, _rule_states(request, caller, rule), _rule_host)
    except FilterError as error:
        return _bad_filter(error)


@api_view()
def rule_hosts_csv(request: HttpRequest, caller: Caller, rule: str) -> HttpResponseBase:
    try:
        states = _rule_states(request, caller, rule).order_by("host_id")
    except FilterError as error:
        return _bad_filter(error)
    header = [*serializers.HOST_COLUMNS, "rule", *serializers.RULE_STATE_COLUMNS]
    rows = (
        serializers.host_row(state.host) + [state.rule] + [_cell(serializers.rule_state(state), c) for c in header[-7:]]
        for state in states.iterator(chunk_size=2000)
    )
    return _csv(request, f"rule-{rule}-hosts.csv", header, rows)


def _cell(data: dict[str, Any], column: str) -> object:
    return data.get(column)


def _counts(caller: Caller) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """Hosts in each status by rule and by product, and as of when. From the rollup housekeeping keeps when
    it is fresh (at 100,000 hosts that sums a few thousand rows instead of millions of rule states), else
    counted now."""
    now = timezone.now()
    fresh = dt.timedelta(seconds=max(2 * settings.CONFIG.housekeeping_interval, 600))
    newest = RuleRollup.objects.order_by("-day", "-at").values_list("day", "at").first()
    rows: list[tuple[str, str, str, int]] = []
    if newest is not None and newest[1] is not None and newest[1] >= now - fresh:
        at = newest[1]
        scoped = RuleRollup.objects.filter(day=newest[0])
        if caller.group_ids is not None:
            scoped = scoped.filter(group_id__in=caller.group_ids)
        for item in scoped.values("rule", "product", *FINDING_STATUSES):
            rows += [(item["rule"], item["product"], status, item[status]) for status in FINDING_STATUSES]
    else:
        at = now
        states = caller.scoped(RuleState.objects.filter(host__archived_at__isnull=True), "host__")
        for row in states.values("rule", "product", "status").annotate(n=Count("id")):
            rows.append((row["rule"], row["product"], row["status"], row["n"]))
    by_rule: dict[str, dict[str, Any]] = {}
    by_product: dict[str, dict[str, Any]] = {}
    for rule, product, status, count in rows:
        for key, table, name in ((rule, by_rule, "rule"), (product, by_product, "product")):
            entry = table.setdefault(key, {name: key, "hosts": 0, **dict.fromkeys(FINDING_STATUSES, 0)})
            entry[status] += count
            entry["hosts"] += count
    return (
        [by_rule[key] for key in sorted(by_rule)],
        [by_product[key] for key in sorted(by_product)],
        serializers.moment(at) or "",
    )


def _rules(caller: Caller) -> list[dict[str, Any]]:
    return _counts(caller)[0]


@api_view()
def rules(request: HttpRequest, caller: Caller) -> HttpResponse:
    return answer(200, {"results": _rules(caller)})


@api_view()
def rules_csv(request: HttpRequest, caller: Caller) -> HttpResponseBase:
    header = ["rule", "hosts", *FINDING_STATUSES]
    return _csv(request, "rules.csv", header, iter([[entry[c] for c in header] for entry in _rules(caller)]))


@api_view()
def summary(request: HttpRequest, caller: Caller) -> HttpResponse:
    hosts = caller.scoped(Host.objects.all())
    active = hosts.filter(archived_at__isnull=True)
    totals = active.aggregate(
        hosts=Count("id"),
        stale=Count("id", filter=Q(stale=True)),
        clone=Count("id", filter=Q(clone=True)),
        shared_key=Count("id", filter=Q(shared_key=True)),
        clock_skew=Count("id", filter=Q(clock_skew=True)),
        rules_stale=Count("id", filter=Q(rules_stale=True)),
        rules_fallback=Count("id", filter=Q(rules_fallback=True)),
    )
    by_status = dict.fromkeys(HOST_STATUSES, 0)
    for row in active.values("status").annotate(n=Count("id")):
        by_status[row["status"]] = row["n"]
    reported = totals["hosts"] - by_status["none"]
    by_rule, by_product, counts_at = _counts(caller)
    serials = [
        {"serial": row["rules_serial"], "hosts": row["n"]}
        for row in active.exclude(rules_serial__isnull=True)
        .values("rules_serial")
        .annotate(n=Count("id"))
        .order_by("-rules_serial")
    ]
    return answer(
        200,
        {
            "at": serializers.moment(timezone.now()),
            "hosts": totals["hosts"],
            "reporting": totals["hosts"] - totals["stale"],
            "stale": totals["stale"],
            "archived": hosts.filter(archived_at__isnull=False).count(),
            "by_status": by_status,
            # Of the hosts that sent a report: the share with nothing owed or due.
            "compliant_percent": round(100.0 * by_status["ok"] / reported, 1) if reported else None,
            "flags": {name: totals[name] for name in ("clone", "shared_key", "clock_skew")},
            "rules_files": {"stale": totals["rules_stale"], "fallback": totals["rules_fallback"], "serials": serials},
            # By rule and by product: from the rollup when it is fresh, as of counts_at.
            "counts_at": counts_at,
            "by_rule": by_rule,
            "by_product": by_product,
        },
    )
