"""Alerts, from housekeeping (after today's rollup): notice what got worse since the last run, batch it
into one digest per channel at most every ``digest_minutes``, send what is due, retry what failed.

What is noticed (each an Event, recorded once whatever how often it is looked at, by its key):

- a host newly owes a required rule: a state change into owed, unsupported or restart from another state,
  whose rule is required and still owing when housekeeping looks;
- a host went stale: silent for ``stale_after_days`` (from its last_seen, so a host is noticed once per
  silence);
- compliance fell below the threshold: the share of reporting hosts with nothing owed, due or unknown, for
  the fleet and for each group, from today's rollup; noticed when it falls below, not again while it stays.

A delivery that fails is tried again at the next runs after 1, 2, 4… minutes (at most 6 hours apart) and
given up after MAX_ATTEMPTS (the alerts page shows it).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clientcheck_server.alerts import send
from clientcheck_server.alerts.models import (
    COMPLIANCE,
    DELIVERED,
    EMAIL,
    FAILED,
    OWED,
    PENDING,
    STALE,
    AlertSettings,
    Channel,
    Delivery,
    Digest,
    Event,
)
from clientcheck_server.fleet.models import DailyRollup, FleetSettings, Group, Host, RuleState, StateChange
from clientcheck_server.fleet.timekeeping import server_day

OWING = ("owed", "unsupported", "restart")
# Changes committed a little after they were stamped (a long transaction) are still seen: each run looks
# this far behind the last one; the events' keys keep them from being counted twice.
LOOKBACK = dt.timedelta(minutes=10)
FIRST_LOOK = dt.timedelta(hours=1)  # the first run ever looks back this far, not at all of history
STALE_LOOK = dt.timedelta(days=2)
LISTED = 200  # events listed one by one in a digest; the rest are counted
MAX_ATTEMPTS = 10
KEEP = dt.timedelta(days=90)
CHUNK = 2000


def _moment(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _host_url(host_id: int | None) -> str | None:
    base = settings.CONFIG.public_url.rstrip("/")
    return f"{base}/hosts/{host_id}" if base and host_id else None


def _owed(since: dt.datetime, now: dt.datetime) -> int:
    made = 0
    changes = (
        StateChange.objects.filter(at__gt=since, at__lte=now, new__in=OWING)
        .exclude(old__in=OWING)
        .filter(host__archived_at__isnull=True)
        .select_related("host", "host__group")
        .order_by("pk")
    )
    batch: list[StateChange] = []

    def flush() -> int:
        pairs = {(c.host_id, c.rule) for c in batch}
        owing = set(
            RuleState.objects.filter(
                host_id__in={h for h, _ in pairs},
                rule__in={r for _, r in pairs},
                severity="required",
                status__in=OWING,
            ).values_list("host_id", "rule")
        )
        events = [
            Event(
                kind=OWED,
                at=change.at,
                key=f"owed:{change.pk}",
                host_id=change.host_id,
                hostname=change.host.hostname,
                group=change.host.group.name if change.host.group else "",
                rule=change.rule,
                product=change.product,
                detail={
                    "from": change.old,
                    "to": change.new,
                    "installed": change.installed,
                    "required": change.required,
                },
            )
            for change in batch
            if (change.host_id, change.rule) in owing
        ]
        Event.objects.bulk_create(events, ignore_conflicts=True)
        batch.clear()
        return len(events)

    for change in changes.iterator(chunk_size=CHUNK):
        batch.append(change)
        if len(batch) >= CHUNK:
            made += flush()
    if batch:
        made += flush()
    return made


def _stale(since: dt.datetime, now: dt.datetime) -> int:
    """Hosts whose silence reached the stale window lately: since the last run, and at least in the last
    two days (a run that was skipped, a window changed meanwhile); each silence once, by its key."""
    window = dt.timedelta(days=FleetSettings.current().stale_after_days)
    back = max(now - since, STALE_LOOK)
    hosts = Host.objects.filter(
        stale=True, archived_at__isnull=True, last_seen__gt=now - window - back, last_seen__lte=now - window
    ).select_related("group")
    events = [
        Event(
            kind=STALE,
            at=host.last_seen + window,
            key=f"stale:{host.pk}:{int(host.last_seen.timestamp())}",
            host_id=host.pk,
            hostname=host.hostname,
            group=host.group.name if host.group else "",
            detail={"last_seen": _moment(host.last_seen), "days": window.days},
        )
        for host in hosts.iterator(chunk_size=CHUNK)
    ]
    Event.objects.bulk_create(events, ignore_conflicts=True, batch_size=CHUNK)
    return len(events)


def _compliance(alerts: AlertSettings, now: dt.datetime) -> int:
    """Each scope (the fleet, each group) that fell below the threshold since the last run."""
    rows = list(DailyRollup.objects.filter(day=server_day(now)).values("group_id", "hosts", "ok", "none"))
    if not rows:
        return 0
    names = dict(Group.objects.filter(pk__in=[r["group_id"] for r in rows if r["group_id"]]).values_list("pk", "name"))
    scopes: dict[str, tuple[str, int, int]] = {}
    fleet_ok = fleet_reported = 0
    for row in rows:
        reported = row["hosts"] - row["none"]
        fleet_ok += row["ok"]
        fleet_reported += reported
        if row["group_id"] is not None:
            scopes[str(row["group_id"])] = (names.get(row["group_id"], "?"), row["ok"], reported)
    scopes["fleet"] = ("", fleet_ok, fleet_reported)
    below: list[str] = []
    events = []
    for key, (group, ok, reported) in sorted(scopes.items()):
        if not reported:
            continue
        percent = 100.0 * ok / reported
        if percent < alerts.compliance_threshold:
            below.append(key)
            if key not in alerts.below:
                events.append(
                    Event(
                        kind=COMPLIANCE,
                        at=now,
                        key=f"compliance:{key}:{_moment(now)}",
                        group=group,
                        detail={
                            "scope": "fleet" if key == "fleet" else "group",
                            "percent": round(percent, 1),
                            "threshold": alerts.compliance_threshold,
                            "compliant": ok,
                            "reporting": reported,
                        },
                    )
                )
    Event.objects.bulk_create(events, ignore_conflicts=True)
    alerts.below = below
    return len(events)


def _event_dict(event: Event) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": event.kind, "at": _moment(event.at)}
    if event.host_id or event.hostname:
        item["host"] = {
            "id": event.host_id,
            "hostname": event.hostname,
            "group": event.group or None,
            "url": _host_url(event.host_id),
        }
    elif event.group:
        item["group"] = event.group
    if event.rule:
        item["rule"], item["product"] = event.rule, event.product
    item["detail"] = event.detail
    return item


def summary_line(counts: dict[str, int], compliance: list[dict[str, Any]]) -> str:
    parts = []
    if counts.get(OWED):
        n = counts[OWED]
        parts.append(f"{n} new required update{'s' if n != 1 else ''} owed")
    if counts.get(STALE):
        n = counts[STALE]
        parts.append(f"{n} host{'s' if n != 1 else ''} went stale")
    for item in compliance:
        where = f"group {item['group']}" if item.get("group") else "the fleet"
        parts.append(f"compliance of {where} fell to {item['detail']['percent']} %")
    return "; ".join(parts) or "nothing new"


def payload(
    digest_id: str, events: list[Event], total: int, counts: dict[str, int], now: dt.datetime
) -> dict[str, Any]:
    listed = [_event_dict(event) for event in events[:LISTED]]
    compliance = [item for item in listed if item["kind"] == COMPLIANCE]
    return {
        "type": "clientcheck.alerts/1",
        "id": digest_id,
        "server": settings.CONFIG.public_url or None,
        "created_at": _moment(now),
        "summary": summary_line(counts, compliance),
        "counts": {kind: counts.get(kind, 0) for kind in (OWED, STALE, COMPLIANCE)},
        "events": listed,
        "omitted": max(0, total - LISTED),
    }


def text_of(document: dict[str, Any]) -> tuple[str, str]:
    """An e-mail's subject and plain-text body for a digest."""
    subject = f"clientcheck: {document['summary']}"
    lines = [document["summary"] + ".", ""]
    titles = {OWED: "Newly owing a required update", STALE: "Went stale", COMPLIANCE: "Compliance"}
    for kind in (OWED, STALE, COMPLIANCE):
        items = [e for e in document["events"] if e["kind"] == kind]
        if not items:
            continue
        lines.append(f"{titles[kind]} ({document['counts'][kind]}):")
        for item in items:
            host = item.get("host") or {}
            where = f"{host.get('hostname')}" + (f" ({host['group']})" if host.get("group") else "")
            if kind == OWED:
                detail = item["detail"]
                line = f"  {where}: {item['rule']} {detail.get('to')}, installed {detail.get('installed') or '?'}"
            elif kind == STALE:
                line = f"  {where}: silent since {item['detail']['last_seen']}"
            else:
                scope = f"group {item['group']}" if item.get("group") else "the fleet"
                d = item["detail"]
                share = f"{d['percent']} % compliant ({d['compliant']} of {d['reporting']})"
                line = f"  {scope}: {share}, below {d['threshold']} %"
            if host.get("url"):
                line += f"  {host['url']}"
            # Host data is untrusted: no control character reaches a mail reader's terminal.
            lines.append("".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in line))
        lines.append("")
    if document["omitted"]:
        lines.append(f"… and {document['omitted']} more (see the dashboard).")
    if document.get("server"):
        lines.append(f"Dashboard: {document['server']}")
    return subject[:200], "\n".join(lines) + "\n"


def _make_digest(alerts: AlertSettings, now: dt.datetime) -> Digest | None:
    channels = list(Channel.objects.filter(enabled=True))
    due = alerts.last_digest_at is None or now - alerts.last_digest_at >= dt.timedelta(minutes=alerts.digest_minutes)
    if not channels or not due:
        return None
    pending = Event.objects.filter(digest__isnull=True, at__gte=now - dt.timedelta(days=1))
    total = pending.count()
    if not total:
        return None
    order = {COMPLIANCE: 0, OWED: 1, STALE: 2}
    events = sorted(pending.order_by("at", "pk")[: LISTED * 4], key=lambda e: (order[e.kind], e.at, e.pk))
    counts = Counter(pending.values_list("kind", flat=True))
    digest = Digest(created_at=now, payload={})
    digest.payload = payload(str(digest.uid), events, total, dict(counts), now)
    digest.save()
    pending.update(digest=digest)
    Delivery.objects.bulk_create(Delivery(digest=digest, channel=c, next_attempt_at=now) for c in channels)
    alerts.last_digest_at = now
    return digest


def deliver(delivery: Delivery, now: dt.datetime) -> bool:
    channel, document = delivery.channel, delivery.digest.payload
    try:
        if channel.kind == EMAIL:
            subject, text = text_of(document)
            send.email([a.strip() for a in channel.target.split(",") if a.strip()], subject, text)
        else:
            send.webhook(channel.target, channel.secret, document, str(delivery.uid), now=now.timestamp())
    except send.SendError as error:
        delivery.attempts += 1
        delivery.last_error = str(error)[:500]
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = FAILED
        else:
            delay = min(dt.timedelta(hours=6), dt.timedelta(minutes=2 ** (delivery.attempts - 1)))
            delivery.next_attempt_at = now + delay
        delivery.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
        return False
    delivery.attempts += 1
    delivery.status, delivery.delivered_at, delivery.last_error = DELIVERED, now, ""
    delivery.save(update_fields=["attempts", "status", "delivered_at", "last_error"])
    return True


def run(now: dt.datetime | None = None) -> dict[str, int]:
    """One round: notice, batch, send. Housekeeping calls it under its lock, so it never runs twice at once."""
    now = now or timezone.now()
    summary = {"owed": 0, "stale": 0, "compliance": 0, "digests": 0, "delivered": 0, "failed": 0}
    with transaction.atomic():
        alerts = AlertSettings.objects.select_for_update().get(pk=AlertSettings.current().pk)
        since = (alerts.watermark or now - FIRST_LOOK) - LOOKBACK
        if alerts.owed_enabled:
            summary["owed"] = _owed(since, now)
        if alerts.stale_enabled:
            summary["stale"] = _stale(since, now)
        if alerts.compliance_enabled:
            summary["compliance"] = _compliance(alerts, now)
        alerts.watermark = now
        summary["digests"] = 1 if _make_digest(alerts, now) else 0
        alerts.save()
    # Sending is outside the transaction: a slow receiver holds no lock on the store.
    for delivery in (
        Delivery.objects.filter(status=PENDING, next_attempt_at__lte=now, channel__enabled=True)
        .select_related("digest", "channel")
        .order_by("next_attempt_at")[:100]
    ):
        summary["delivered" if deliver(delivery, now) else "failed"] += 1
    Event.objects.filter(at__lt=now - KEEP).delete()
    Digest.objects.filter(created_at__lt=now - KEEP).delete()
    return summary
