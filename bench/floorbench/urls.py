"""The production URLconf, and the floor endpoint after it (so every production route resolves first, as in
production)."""

from __future__ import annotations

from django.urls import path

from clientcheck_server.urls import urlpatterns as production
from floorbench import views

urlpatterns = [*production, path("bench/floor", views.floor, name="bench-floor")]
