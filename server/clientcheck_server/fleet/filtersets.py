"""The host list's filters, shared by the JSON and CSV answers (and the dashboard's list later).

Query parameters: ``status`` (host status, comma-separated: ok, due, unknown, owed, none), ``rule`` and
``product`` (hosts that have a finding of that rule or product), ``rule_status`` (with rule or product:
that finding's status, comma-separated), ``group`` (a group name; ``-`` for hosts in no group),
``platform``, ``stale`` (true/false), ``archived`` (false by default; true; or all), ``flag`` (clone,
shared_key, clock_skew), ``search`` (part of the host name, any case).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from clientcheck_server.fleet.models import FINDING_STATUSES, HOST_STATUSES, Host, RuleState


class FilterError(ValueError):
    pass


def _choices(value: str, allowed: tuple[str, ...], name: str) -> list[str]:
    chosen = [item.strip() for item in value.split(",") if item.strip()]
    bad = [item for item in chosen if item not in allowed]
    if bad or not chosen:
        raise FilterError(f"{name}: {', '.join(bad) or 'nothing'} is not one of {', '.join(allowed)}")
    return chosen


def _boolean(value: str, name: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise FilterError(f"{name}: say true or false, not {value!r}")


def filter_hosts(queryset: QuerySet[Host], params: Any) -> QuerySet[Host]:
    if status := params.get("status"):
        queryset = queryset.filter(status__in=_choices(status, HOST_STATUSES, "status"))
    archived = params.get("archived", "false")
    if archived != "all":
        queryset = queryset.filter(archived_at__isnull=not _boolean(archived, "archived"))
    if (stale := params.get("stale")) is not None:
        queryset = queryset.filter(stale=_boolean(stale, "stale"))
    if (group := params.get("group")) is not None:
        queryset = queryset.filter(group__isnull=True) if group == "-" else queryset.filter(group__name=group)
    if platform := params.get("platform"):
        queryset = queryset.filter(platform=platform)
    if flag := params.get("flag"):
        for name in _choices(flag, ("clone", "shared_key", "clock_skew"), "flag"):
            queryset = queryset.filter(**{name: True})
    if search := params.get("search"):
        queryset = queryset.filter(hostname__icontains=search)
    rule, product = params.get("rule"), params.get("product")
    if rule or product:
        states = RuleState.objects.all()
        if rule:
            states = states.filter(rule=rule)
        if product:
            states = states.filter(product=product)
        if rule_status := params.get("rule_status"):
            states = states.filter(status__in=_choices(rule_status, FINDING_STATUSES, "rule_status"))
        queryset = queryset.filter(Q(pk__in=states.values("host_id")))
    elif params.get("rule_status"):
        raise FilterError("rule_status needs rule or product")
    return queryset
