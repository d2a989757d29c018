"""``/hosts``: the host list (filters, sorting, keyset paging, exports); ``/hosts/ID``: one host, its latest
report as the agent shows it, its rules and its history; archiving and deleting a host."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import mark_safe

from clientcheck_server.accounts.audit import record
from clientcheck_server.dashboard import exports, listing
from clientcheck_server.dashboard import report as agent_report
from clientcheck_server.dashboard.access import Scope, admin_action, page, scope_of
from clientcheck_server.dashboard.views.common import HOST_STATUSES, PLATFORMS, client_address, groups, known
from clientcheck_server.fleet import removal
from clientcheck_server.fleet.api import serializers
from clientcheck_server.fleet.filtersets import FilterError
from clientcheck_server.fleet.models import Host, LatestReport, RuleState, StateChange

HISTORY_SORT = listing.Sort("-at", "newest first", "at", descending=True, kind="time")
HISTORY_PAGE = 50


def _filtered(request: HttpRequest, scope: Scope) -> Any:
    return listing.filter_fleet(scope.scoped(Host.objects.select_related("group")), listing.cleaned(request.GET))


@page
def host_list(request: HttpRequest) -> TemplateResponse:
    scope = scope_of(request)
    sort = listing.HOST_SORTS.get(request.GET.get("sort", ""), listing.HOST_SORTS["name"])
    size = listing.page_size(request.GET)
    context: dict[str, Any] = {
        "title": "Hosts",
        "nav": "hosts",
        "filters": listing.cleaned(request.GET),
        "chosen_status": request.GET.getlist("status"),
        "sorts": listing.HOST_SORTS.values(),
        "sort": sort,
        "size": size,
        "sizes": listing.PAGE_SIZES,
        "statuses": HOST_STATUSES,
        "platforms": PLATFORMS,
        "groups": groups(scope),
        "rules": known("rule"),
        "products": known("product"),
    }
    try:
        queryset = _filtered(request, scope)
        result = listing.keyset_page(
            queryset, sort, after=request.GET.get("after"), before=request.GET.get("before"), limit=size
        )
        context.update(page=result, count=queryset.count())
        status = 200
    except FilterError as error:
        context.update(error=str(error), page=None, count=0)
        status = 400
    return TemplateResponse(request, "dashboard/hosts.html", context, status=status)


@page
def host_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    scope = scope_of(request)
    try:
        queryset = _filtered(request, scope).order_by("pk")
    except FilterError as error:
        return TemplateResponse(
            request, "dashboard/error.html", {"title": "Export refused", "message": str(error)}, status=400
        )
    items = queryset.iterator(chunk_size=exports.CHUNK)
    if fmt == "csv":
        return exports.csv_response(request, "hosts", serializers.HOST_COLUMNS, map(serializers.host_row, items))
    return exports.json_response(request, "hosts", items, serializers.host)


def _host(request: HttpRequest, host_id: int) -> Host:
    """A host in the user's scope; another group's host is not found (its existence is not told either)."""
    item: Host | None = scope_of(request).scoped(Host.objects.select_related("group")).filter(pk=host_id).first()
    if item is None:
        raise Http404("no such host")
    return item


def _latest(item: Host) -> LatestReport | None:
    return LatestReport.objects.filter(host=item).first()


@page
def host_page(request: HttpRequest, host_id: int) -> TemplateResponse:
    item = _host(request, host_id)
    latest = _latest(item)
    report_html, report_error = "", ""
    if latest is not None:
        try:
            report_html = agent_report.body(latest.report())
        except (agent_report.ReportError, ValueError) as error:
            report_error = str(error)
    states = list(RuleState.objects.filter(host=item).order_by("rule"))
    order = {status: index for index, status in enumerate(("owed", "unsupported", "restart", "due", "unknown"))}
    states.sort(key=lambda s: (order.get(s.status, 9), s.rule))
    context: dict[str, Any] = {
        "title": item.hostname,
        "nav": "hosts",
        "host": item,
        "latest": latest,
        # Escaped by the agent's renderer, value by value (dashboard.report).
        "report_html": mark_safe(report_html),  # noqa: S308
        "report_error": report_error,
        "states": states,
    }
    try:
        history = listing.keyset_page(
            StateChange.objects.filter(host=item),
            HISTORY_SORT,
            after=request.GET.get("after"),
            before=request.GET.get("before"),
            limit=HISTORY_PAGE,
        )
        context["history"] = history
    except FilterError as error:
        context.update(history=None, error=str(error))
    return TemplateResponse(request, "dashboard/host.html", context)


@page
def host_report(request: HttpRequest, host_id: int, fmt: str) -> HttpResponse:
    """The latest report as the agent wrote it: JSON, or the agent's own HTML page."""
    item = _host(request, host_id)
    latest = _latest(item)
    if latest is None:
        raise Http404("no report yet")
    document = latest.report()
    if fmt == "json":
        response = HttpResponse(
            json.dumps(document, ensure_ascii=False, indent=1), content_type="application/json; charset=utf-8"
        )
    else:
        try:
            text = agent_report.page(document)
        except agent_report.ReportError as error:
            raise Http404(str(error)) from None
        response = HttpResponse(text, content_type="text/html; charset=utf-8")
        # The agent's page has its styles inline and nothing else: no script may run in it, ever.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["Content-Disposition"] = f'attachment; filename="report-{item.pk}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@page
def history_export(request: HttpRequest, host_id: int, fmt: str) -> HttpResponseBase:
    item = _host(request, host_id)
    changes = StateChange.objects.filter(host=item).order_by("-at", "-pk").iterator(chunk_size=exports.CHUNK)
    if fmt == "csv":
        header = ["rule", "product", "old", "new", "at", "deadline", "installed", "required", "cause"]
        rows = ([serializers.change(c)[name] for name in header] for c in changes)
        return exports.csv_response(request, f"host-{item.pk}-history", header, rows)
    return exports.json_response(request, f"host-{item.pk}-history", changes, serializers.change)


@admin_action
def host_remove(request: HttpRequest, host_id: int, action: str) -> HttpResponseBase:
    """Archive (hidden from lists until it reports again) or delete (its key is revoked: its agent stops)."""
    item = _host(request, host_id)
    if request.method != "POST":
        return TemplateResponse(
            request,
            "dashboard/confirm_host.html",
            {"title": f"{action.capitalize()} {item.hostname}", "host": item, "action": action},
        )
    scope = scope_of(request)
    with transaction.atomic():
        if action == "delete":
            removal.delete_host(item, actor=scope.actor, via="web", address=client_address(request))
        else:
            item.archived_at = timezone.now()
            item.save(update_fields=["archived_at"])
            record(
                "host.archive",
                f"{item.hostname} ({item.agent_id})",
                actor=scope.actor,
                via="web",
                address=client_address(request),
                host_id=item.pk,
            )
    return redirect("/hosts" if action == "delete" else f"/hosts/{host_id}")
