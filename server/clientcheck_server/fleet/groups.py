from __future__ import annotations

from django.utils import timezone

from clientcheck_server.accounts.audit import record
from clientcheck_server.fleet.models import Group


def group_named(name: str, *, actor: str, via: str) -> Group:
    """The group of that name, made (and audited) when new."""
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        from django.core.management.base import CommandError

        raise CommandError(f"{name!r} is not a group name (1 to 100 printable characters)")
    group, made = Group.objects.get_or_create(name=name, defaults={"created_at": timezone.now()})
    if made:
        record("group.create", name, actor=actor, via=via)
    return group
