"""The server's settings with the floor endpoint added: the production settings, and two changes only
(the app that owns the floor's table, and the URLconf that adds its route)."""

from __future__ import annotations

from clientcheck_server.settings import *  # noqa: F403 - everything as in production
from clientcheck_server.settings import INSTALLED_APPS as _PRODUCTION_APPS

INSTALLED_APPS = [*_PRODUCTION_APPS, "floorbench"]
ROOT_URLCONF = "floorbench.urls"
