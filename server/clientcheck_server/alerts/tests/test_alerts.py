"""Alerts against real receivers the test starts on 127.0.0.1: an HTTP server for webhooks (checking the
HMAC signature independently), aiosmtpd for e-mail (plain, and STARTTLS with a private CA). Housekeeping is
run with a moving clock: digests batch what was noticed, failed deliveries are retried later."""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import hmac
import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from clientcheck_server.alerts.models import EMAIL, WEBHOOK, AlertSettings, Channel, Delivery, Event
from clientcheck_server.conf import SMTP
from clientcheck_server.dashboard.tests.fleet import make_host
from clientcheck_server.fleet.housekeeping import run as housekeeping
from clientcheck_server.fleet.models import Host
from clientcheck_server.ingest import store
from clientcheck_server.ingest.envelope import Envelope
from servertest import envelope, free_port, missing, real_report, self_signed_certificate, with_finding

pytestmark = pytest.mark.django_db
SECRET = "ccw_test-signing-secret"


class Receiver:
    """A webhook receiver: records each request; answers from a list of statuses (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def payloads(self):
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver():
    started = []

    def start(statuses=None):
        started.append(Receiver(statuses))
        return started[-1]

    yield start
    for item in started:
        item.close()


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server(settings, monkeypatch, tmp_path):
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        missing("aiosmtpd is not installed: pip install './server[test]'")
    started = []

    def start(tls: bool = False):
        box = Mailbox()
        context, ca = None, ""
        if tls:
            cert, key = self_signed_certificate(tmp_path)
            import ssl

            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            ca = str(cert)
        port = free_port()
        controller = Controller(box, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=tls)
        controller.start()
        started.append(controller)
        config = SMTP(
            host="127.0.0.1",
            port=port,
            sender="fleet@example.org",
            security="starttls" if tls else "none",
            ca_bundle=ca,
            timeout=10,
        )
        monkeypatch.setattr(
            django_settings,
            "CONFIG",
            replace(django_settings.CONFIG, smtp=config, public_url="https://fleet.example.org"),
        )
        settings.EMAIL_BACKEND = "clientcheck_server.alerts.mail.Backend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = tls, False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.DEFAULT_FROM_EMAIL = config.sender
        return box

    yield start
    for controller in started:
        controller.stop()


def _owe(host: Host, name: str | None = None) -> None:
    report = real_report()
    store.apply_report(
        host.pk,
        Envelope(envelope(report, agent_id=str(host.agent_id), hostname=name or host.hostname)),
        timezone.now(),
        dt.timedelta(days=30),
    )


def _ok_report():
    report = real_report()
    return with_finding(
        with_finding(report, "chrome", status="ok", installed="999.0"), "firefox-esr", status="ok", installed="999.0"
    )


def _verify(headers: dict[str, str], body: bytes) -> None:
    fields = dict(part.split("=", 1) for part in headers["x-clientcheck-signature"].split(","))
    expected = hmac.new(SECRET.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)


def test_a_digest_reaches_a_webhook_and_a_mailbox_batched(receiver, smtp_server):
    hook, box = receiver(), smtp_server()
    Channel.objects.create(kind=WEBHOOK, target=hook.url, secret=SECRET, created_at=timezone.now(), created_by="t")
    Channel.objects.create(
        kind=EMAIL, target="admin@example.org, second@example.org", created_at=timezone.now(), created_by="t"
    )
    hosts = [make_host(f"ws-{i}", "Sales", _ok_report()) for i in range(5)]
    start = timezone.now()
    housekeeping(start)  # all compliant: nothing to say
    assert hook.requests == [] and box.messages == []
    for host in hosts[:3]:
        _owe(host)
    housekeeping(start + dt.timedelta(minutes=5))
    assert len(hook.requests) == 1 and len(box.messages) == 1
    headers, body = hook.requests[0]
    _verify(headers, body)
    digest = json.loads(body)
    assert digest["type"] == "clientcheck.alerts/1" and digest["counts"]["owed"] == 6  # 3 hosts, 2 rules each
    assert sorted({e["host"]["hostname"] for e in digest["events"] if e["kind"] == "owed"}) == ["ws-0", "ws-1", "ws-2"]
    owed = next(e for e in digest["events"] if e["kind"] == "owed")
    assert owed["host"]["url"] == f"https://fleet.example.org/hosts/{owed['host']['id']}"
    # Compliance fell to 40 %, for the fleet and for group Sales: one event each.
    falls = [e for e in digest["events"] if e["kind"] == "compliance"]
    assert sorted((e.get("group") or "", e["detail"]["percent"]) for e in falls) == [("", 40.0), ("Sales", 40.0)]
    recipients, message = box.messages[0]
    assert sorted(recipients) == ["admin@example.org", "second@example.org"]
    assert message["From"] == "fleet@example.org" and "6 new required updates owed" in message["Subject"]
    text = message.get_payload(decode=True).decode()
    assert "ws-0" in text and "https://fleet.example.org/hosts/" in text
    # Another host owes within the digest interval: noticed, not sent yet; compliance is not said again.
    _owe(hosts[3])
    housekeeping(start + dt.timedelta(minutes=10))
    assert len(hook.requests) == 1 and Event.objects.filter(digest__isnull=True).count() == 2
    housekeeping(start + dt.timedelta(minutes=70))
    assert len(hook.requests) == 2 and len(box.messages) == 2
    second = hook.payloads()[1]
    assert second["counts"] == {"owed": 2, "stale": 0, "compliance": 0}
    assert {e["host"]["hostname"] for e in second["events"]} == {"ws-3"}


def test_a_failing_webhook_is_retried_later_with_the_same_delivery_id(receiver):
    hook = receiver([500, 503])
    Channel.objects.create(kind=WEBHOOK, target=hook.url, secret=SECRET, created_at=timezone.now(), created_by="t")
    host = make_host("ws-retry", report=_ok_report())
    start = timezone.now()
    housekeeping(start)
    _owe(host)
    housekeeping(start + dt.timedelta(minutes=1))
    assert len(hook.requests) == 1
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1 and "500" in delivery.last_error
    housekeeping(start + dt.timedelta(minutes=1, seconds=30))  # not due yet (1 minute after the failure)
    assert len(hook.requests) == 1
    housekeeping(start + dt.timedelta(minutes=2, seconds=5))
    assert len(hook.requests) == 2  # 503 again: next in 2 minutes
    housekeeping(start + dt.timedelta(minutes=4, seconds=10))
    assert len(hook.requests) == 3
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 3
    ids = {headers["x-clientcheck-delivery"] for headers, _ in hook.requests}
    assert ids == {str(delivery.uid)}
    for headers, body in hook.requests:
        _verify(headers, body)


def test_an_unreachable_webhook_is_given_up_after_its_attempts(receiver):
    hook = receiver()
    url = hook.url
    hook.close()  # nothing listens there any more
    Channel.objects.create(kind=WEBHOOK, target=url, secret=SECRET, created_at=timezone.now(), created_by="t")
    host = make_host("ws-gone", report=_ok_report())
    now = timezone.now()
    housekeeping(now)
    _owe(host)
    for _ in range(12):
        now += dt.timedelta(hours=7)
        housekeeping(now)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 10 and "Connection" in delivery.last_error


def test_hosts_going_stale_are_noticed_once(receiver):
    hook = receiver()
    Channel.objects.create(kind=WEBHOOK, target=hook.url, secret=SECRET, created_at=timezone.now(), created_by="t")
    AlertSettings.objects.update_or_create(pk=1, defaults={"compliance_enabled": False})
    quiet = make_host("ws-quiet", report=_ok_report())
    make_host("ws-busy", report=_ok_report())
    now = timezone.now()
    housekeeping(now)
    Host.objects.filter(pk=quiet.pk).update(last_seen=now - dt.timedelta(days=14, minutes=30))
    housekeeping(now + dt.timedelta(minutes=5))
    housekeeping(now + dt.timedelta(minutes=90))
    stale = [e for p in hook.payloads() for e in p["events"] if e["kind"] == "stale"]
    assert [e["host"]["hostname"] for e in stale] == ["ws-quiet"]


def test_mail_through_starttls_checked_against_a_private_ca(smtp_server):
    box = smtp_server(tls=True)
    Channel.objects.create(kind=EMAIL, target="admin@example.org", created_at=timezone.now(), created_by="t")
    host = make_host("ws-tls", report=_ok_report())
    now = timezone.now()
    housekeeping(now)
    _owe(host)
    housekeeping(now + dt.timedelta(minutes=1))
    assert len(box.messages) == 1 and "ws-tls" in box.messages[0][1].get_payload(decode=True).decode()


def test_hostile_host_names_reach_no_mail_reader_as_control_characters(smtp_server):
    box = smtp_server()
    Channel.objects.create(kind=EMAIL, target="admin@example.org", created_at=timezone.now(), created_by="t")
    host = make_host("ws-evil", report=_ok_report())
    now = timezone.now()
    housekeeping(now)
    _owe(host, "ws-evil")
    # Ingest refuses control characters in a host name; an older store (or another way in) may hold one.
    Host.objects.filter(pk=host.pk).update(hostname="evil\x1b[2J")
    housekeeping(now + dt.timedelta(minutes=1))
    text = box.messages[0][1].get_payload(decode=True).decode()
    assert "\x1b" not in text and "evil\\x1b[2J" in text


def test_the_alerts_page_makes_a_channel_shows_its_secret_once_and_tests_it(receiver, client):
    from clientcheck_server.dashboard.tests.fleet import PASSWORD, admin

    hook = receiver()
    root = admin()
    assert client.login(username=root.username, password=PASSWORD)
    page = client.post("/alerts", {"form": "channel", "kind": "webhook", "name": "chat", "target": hook.url})
    channel = Channel.objects.get(name="chat")
    assert channel.secret in page.content.decode() and channel.secret not in client.get("/alerts").content.decode()
    tested = client.post(f"/alerts/channels/{channel.pk}/test")
    assert tested.status_code == 200 and len(hook.requests) == 1
    headers, body = hook.requests[0]
    fields = dict(part.split("=", 1) for part in headers["x-clientcheck-signature"].split(","))
    mac = hmac.new(channel.secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert fields["v1"] == mac
    refused = client.post("/alerts", {"form": "channel", "kind": "webhook", "target": "ftp://x"})
    assert "needs an http" in refused.content.decode()
    client.post("/alerts", {"form": "settings", "owed_enabled": "on", "compliance_threshold": 75, "digest_minutes": 30})
    current = AlertSettings.current()
    assert current.compliance_threshold == 75 and not current.stale_enabled and current.digest_minutes == 30
