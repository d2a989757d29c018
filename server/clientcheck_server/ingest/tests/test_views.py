"""The report endpoint in-process: check-ins write at most once a minute, bring archived hosts back, count
against the host's rate limit; the guard in front of Django refuses what is too big, too slow or too much."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import uuid

import pytest
from django.conf import settings
from django.utils import timezone

from clientcheck_server.core import credentials
from clientcheck_server.enrollment.models import EnrollmentSecret
from clientcheck_server.enrollment.service import enroll
from clientcheck_server.fleet.models import Host
from clientcheck_server.serving.guard import Guard
from servertest import Agent, envelope, real_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled():
    value = credentials.new(credentials.SECRET)
    secret = EnrollmentSecret.objects.create(
        prefix=credentials.prefix(value),
        key_hash=credentials.digest(value),
        created_at=timezone.now(),
        created_by="test",
    )
    agent = Agent("http://unused", "ws-1")
    result = enroll(
        secret,
        agent_id=uuid.UUID(agent.agent_id),
        hostname="ws-1",
        hints=agent.hints,
        boot_id=agent.boot_id,
        run_as="machine",
        agent_version="0.1.0",
        platform="linux",
        now=timezone.now(),
    )
    agent.key = result.key
    return agent, result.host


def post(client, agent, document):
    return client.post(
        "/api/v1/reports",
        json.dumps(document),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {agent.key}",
    )


def test_check_ins_write_last_seen_at_most_once_a_minute(client, enrolled):
    agent, host = enrolled
    report = real_report()
    assert post(client, agent, agent.envelope(report)).json()["outcome"] == "stored"
    first = Host.objects.get(pk=host.pk).last_seen
    assert post(client, agent, agent.envelope(report)).json()["outcome"] == "check-in"
    assert Host.objects.get(pk=host.pk).last_seen == first  # within the minute: nothing written
    Host.objects.filter(pk=host.pk).update(
        last_seen=first - dt.timedelta(minutes=2), archived_at=timezone.now(), stale=True
    )
    assert post(client, agent, agent.envelope(report)).json()["outcome"] == "check-in"
    back = Host.objects.get(pk=host.pk)
    assert back.last_seen > first and back.archived_at is None and not back.stale  # an archived host comes back


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_counters_and_last_seen_commit_without_fsync_and_reports_with_it(client, enrolled):
    from django.db import connection

    agent, host = enrolled
    report = real_report()
    seen = []

    def watch(execute, sql, params, many, context):
        sql = sql.strip()
        if sql.startswith(("PRAGMA synchronous", "INSERT INTO fleet_latestreport", "INSERT INTO core_ratecounter")):
            seen.append(sql.split(" (")[0].split(" = ")[0] + (" = " + sql.split(" = ")[1] if "PRAGMA" in sql else ""))
        if sql.startswith("UPDATE fleet_host SET last_seen"):
            seen.append("last_seen")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        assert post(client, agent, agent.envelope(report)).json()["outcome"] == "stored"
        Host.objects.filter(pk=host.pk).update(last_seen=timezone.now() - dt.timedelta(minutes=5))
        assert post(client, agent, agent.envelope(report)).json()["outcome"] == "check-in"
    relaxed, strict = "PRAGMA synchronous = NORMAL", "PRAGMA synchronous = FULL"
    counter = [relaxed, "INSERT INTO core_ratecounter", strict]
    assert seen == [*counter, "INSERT INTO fleet_latestreport", *counter, relaxed, "last_seen", strict]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL again


def test_a_host_key_past_its_hourly_limit_gets_429(client, enrolled, monkeypatch):
    agent, _ = enrolled
    monkeypatch.setattr(settings, "CONFIG", dataclasses.replace(settings.CONFIG, host_requests_per_hour=3))
    answers = [post(client, agent, agent.envelope(real_report())) for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert 0 < int(answers[-1]["Retry-After"]) <= 3601
    assert answers[-1].json()["error"] == "rate_limited"


def test_the_envelope_must_come_from_the_keys_own_agent(client, enrolled):
    agent, _ = enrolled
    other = envelope(real_report(), agent_id="00000000-0000-4000-8000-000000000000")
    answer = post(client, agent, other)
    assert (answer.status_code, answer.json()["error"]) == (422, "agent_mismatch")


class _Held:
    """An ASGI app that answers only when released: a worker busy with earlier requests."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.bodies: list[bytes] = []

    async def __call__(self, scope, receive, send) -> None:
        message = await receive()
        self.bodies.append(message["body"])
        await self.release.wait()
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def _call(guard, body: bytes, *, length: bool = True, drip: float = 0.0):
    sent: list[dict] = []
    chunks = [body[i : i + 10] for i in range(0, len(body), 10)] or [b""]

    async def receive():
        if drip:
            await asyncio.sleep(drip)
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message):
        sent.append(message)

    headers = [(b"content-length", str(len(body)).encode())] if length else []
    scope = {"type": "http", "method": "POST", "path": "/api/v1/reports", "headers": headers}
    return guard(scope, receive, send), sent


def test_the_guard_sheds_load_past_max_pending_and_refuses_big_and_slow_bodies():
    async def scenario():
        app = _Held()
        guard = Guard(app, max_body=100, body_timeout=0.5, max_pending=2)
        first, _ = _call(guard, b"one")
        second, _ = _call(guard, b"two")
        tasks = [asyncio.ensure_future(first), asyncio.ensure_future(second)]
        await asyncio.sleep(0.05)
        third, sent = _call(guard, b"three")
        await third
        assert sent[0]["status"] == 503
        assert int(dict(sent[0]["headers"])[b"retry-after"]) >= 30
        app.release.set()
        await asyncio.gather(*tasks)
        assert app.bodies == [b"one", b"two"]
        big, sent = _call(guard, b"x" * 101)
        await big
        assert sent[0]["status"] == 413
        chunked, sent = _call(guard, b"x" * 101, length=False)
        await chunked
        assert sent[0]["status"] == 413
        slow, sent = _call(guard, b"y" * 50, drip=0.2)
        await slow
        assert sent[0]["status"] == 408
        assert app.bodies == [b"one", b"two"]  # nothing refused reached Django

    asyncio.run(scenario())
