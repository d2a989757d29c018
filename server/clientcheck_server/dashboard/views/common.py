"""What the dashboard's views share: the rules and products known to the fleet (for the filters'
choices), the groups a user may pick, the requester's address for the audit log."""

from __future__ import annotations

from django.db.models import QuerySet

from clientcheck_server.core.http import client_address
from clientcheck_server.dashboard.access import Scope
from clientcheck_server.fleet.models import Group, RuleRollup, RuleState

PLATFORMS = ("linux", "macos", "windows")
HOST_STATUSES = (
    ("owed", "owes updates"),
    ("due", "updates due soon"),
    ("unknown", "could not check"),
    ("ok", "up to date"),
    ("none", "no report yet"),
)
FINDING_STATUSES = ("owed", "unsupported", "restart", "due", "unknown", "ok")
OWING = ("owed", "unsupported", "restart")

__all__ = ["client_address"]


def groups(scope: Scope) -> QuerySet[Group]:
    found = Group.objects.order_by("name")
    return found.filter(pk__in=scope.group_ids) if scope.group_ids is not None else found


def known(column: str) -> list[str]:
    """The rule ids or products in the newest rollup (a few hundred rows), else in the rule states (a
    small fleet that housekeeping has not rolled up yet)."""
    newest = RuleRollup.objects.order_by("-day").values_list("day", flat=True).first()
    if newest is not None:
        return sorted(set(RuleRollup.objects.filter(day=newest).values_list(column, flat=True).distinct()))
    return sorted(set(RuleState.objects.values_list(column, flat=True).distinct()))
