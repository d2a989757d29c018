"""Pages for refusals: a cross-site or expired form (CSRF), not found, too many sign-in attempts."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from clientcheck_server.core.http import refuse


def csrf_failure(request: HttpRequest, reason: str = "") -> TemplateResponse:
    response = TemplateResponse(
        request,
        "dashboard/error.html",
        {
            "title": "Form refused",
            "message": "This form did not come from this dashboard, or it expired. Go back, reload the page and "
            "try again.",
        },
        status=403,
    )
    response.render()
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return refuse(404, "not_found", "no such API call")
    response = TemplateResponse(
        request, "dashboard/error.html", {"title": "Not found", "message": "There is nothing here."}, status=404
    )
    response.render()
    return response


def forbidden(request: HttpRequest, exception: Exception | None = None) -> TemplateResponse:
    response = TemplateResponse(
        request, "dashboard/error.html", {"title": "Not allowed", "message": "You may not do this."}, status=403
    )
    response.render()
    return response
