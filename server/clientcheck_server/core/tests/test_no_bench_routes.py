"""The benchmark's floor endpoint (bench/floorbench: json.loads, one INSERT, one UPDATE, no authentication)
is never part of the production server: not in its URLconf, not in its settings, not in its package. Only
the bench's own settings module adds it, and changes nothing else."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomllib
from django.conf import settings
from django.urls import Resolver404, URLResolver, resolve

from servertest import REPO

PRODUCTION_URLS = "clientcheck_server.urls"


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.callback


@pytest.fixture
def bench_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    yield
    for name in [name for name in sys.modules if name == "floorbench" or name.startswith("floorbench.")]:
        del sys.modules[name]


def test_the_production_urlconf_has_no_floor_route():
    from clientcheck_server import urls

    routes = dict(_routes(urls.urlpatterns))
    assert "api/v1/reports" in routes  # the walk sees the real routes
    assert [route for route in routes if "bench" in route or "floor" in route] == []
    assert [c for c in routes.values() if c.__module__.split(".")[0] != "clientcheck_server"] == []
    with pytest.raises(Resolver404):
        resolve("/bench/floor", urlconf=PRODUCTION_URLS)
    assert settings.ROOT_URLCONF == PRODUCTION_URLS
    assert "floorbench" not in settings.INSTALLED_APPS


def test_only_the_bench_settings_add_it_and_change_nothing_else(bench_on_path):
    from clientcheck_server import settings as production
    from floorbench import settings as bench

    names = {name for name in dir(production) if name.isupper() and not name.startswith("_")}
    assert {name for name in dir(bench) if name.isupper() and not name.startswith("_")} == names
    assert {name for name in names if getattr(bench, name) != getattr(production, name)} == {
        "INSTALLED_APPS",
        "ROOT_URLCONF",
    }
    assert [*production.INSTALLED_APPS, "floorbench"] == bench.INSTALLED_APPS
    assert resolve("/bench/floor", urlconf=bench.ROOT_URLCONF).func.__module__ == "floorbench.views"
    for path in ("/api/v1/reports", "/api/v1/enroll", "/api/v1/hosts", "/healthz"):
        assert resolve(path, urlconf=bench.ROOT_URLCONF).func is resolve(path, urlconf=PRODUCTION_URLS).func


def test_the_server_package_never_names_it_and_ships_alone():
    package = REPO / "server" / "clientcheck_server"
    sources = [path for path in package.rglob("*.py") if "tests" not in path.relative_to(package).parts]
    assert len(sources) > 50
    assert [path for path in sources if "floorbench" in path.read_text(encoding="utf-8")] == []
    project = tomllib.loads((REPO / "server" / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["clientcheck_server"]
    assert not (package / "floorbench").exists()
    assert Path(REPO / "bench" / "floorbench" / "urls.py").is_file()
