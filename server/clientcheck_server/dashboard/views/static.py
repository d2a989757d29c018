"""``/static/NAME``: the dashboard's stylesheet, script and icon (see dashboard.assets)."""

from __future__ import annotations

from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse

from clientcheck_server.dashboard import assets


def asset(request: HttpRequest, name: str) -> HttpResponse:
    found = assets.read(name)
    if found is None:
        raise Http404(name)
    data, digest = found
    response = HttpResponse(data, content_type=assets.TYPES[Path(name).suffix])
    response["ETag"] = f'"{digest}"'
    if request.GET.get("v") == digest:
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "no-cache"
    return response
