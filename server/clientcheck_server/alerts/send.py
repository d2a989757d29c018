"""Sending a digest: a webhook (JSON, HMAC-SHA256-signed) or an e-mail (SMTP). One attempt each call; the
caller keeps the delivery and retries it later with a growing delay (alerts.digest).

A webhook's request carries ``X-Clientcheck-Signature: t=TIMESTAMP,v1=HEX``: the HMAC-SHA256, keyed with the
channel's secret, of ``TIMESTAMP.BODY`` (the timestamp in seconds, a dot, the body's bytes). The receiver
recomputes it and refuses a signature older than a few minutes (a replay); ``X-Clientcheck-Delivery`` is the
same on every retry of one delivery, so a receiver can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from clientcheck_server import __version__

TIMEOUT = (5.0, 15.0)  # connect, read (seconds)


class SendError(Exception):
    """The receiver did not take it; the message says what happened (kept on the delivery)."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def webhook(url: str, secret: str, payload: dict[str, Any], delivery: str, *, now: float | None = None) -> None:
    import requests

    body = body_of(payload)
    timestamp = int(now if now is not None else time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"clientcheck-server/{__version__}",
        "X-Clientcheck-Event": "alert-digest",
        "X-Clientcheck-Delivery": delivery,
        "X-Clientcheck-Signature": signature(secret, timestamp, body),
    }
    try:
        # No redirects: a 3xx is an answer to fix in the channel's URL, not to follow with the signature.
        answer = requests.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as error:
        raise SendError(f"{type(error).__name__}: {error}"[:300]) from None
    if not 200 <= answer.status_code < 300:
        raise SendError(f"HTTP {answer.status_code} {answer.reason or ''}".strip())


def email(recipients: list[str], subject: str, text: str) -> None:
    from django.conf import settings
    from django.core.mail import EmailMessage

    if settings.CONFIG.smtp is None:
        raise SendError("no [smtp] in server.toml: e-mail cannot be sent")
    message = EmailMessage(subject=subject, body=text, to=recipients)
    try:
        message.send(fail_silently=False)
    except (OSError, ValueError) as error:  # smtplib's errors are OSErrors
        raise SendError(f"{type(error).__name__}: {error}"[:300]) from None
