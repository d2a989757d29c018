"""JSON answers and request details shared by the API views."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse


def answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False), status=status, content_type="application/json"
    )
    for name, value in (headers or {}).items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


def refuse(status: int, error: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> HttpResponse:
    """An error answer: ``error`` is the machine-readable reason (agents act on it), ``detail`` says it for people."""
    return answer(status, {"error": error, "detail": detail, **extra}, headers)


def bearer(request: HttpRequest) -> str | None:
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def client_address(request: HttpRequest) -> str:
    """The client's address: the connection's peer, or, only when that peer is a trusted proxy, the address
    the proxy reports (the ASGI server resolves X-Forwarded-For against ``trusted_proxies`` before Django)."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")
