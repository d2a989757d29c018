"""Renderers: one small module per output format, each a pure function of a ``Report`` (or an
``Inventory``) to text, one per name in the settings' ``FORMATS`` (``config.table``); only the one asked for
is imported."""

from __future__ import annotations

import sys

from clientcheck.config.table import FORMATS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from clientcheck import dates as dt
    from clientcheck.model import Inventory, Report


def _module(name: str) -> object:
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}")
    # __import__ rather than importlib.import_module: importlib's package (and the warnings module it
    # loads) would cost every run a millisecond.
    qualified = f"clientcheck.render.{name}"
    __import__(qualified)
    return sys.modules[qualified]


def report_renderer(name: str) -> Callable[[Report], str]:
    renderer: Callable[[Report], str] = getattr(_module(name), "render_report")  # noqa: B009
    return renderer


def inventory_renderer(name: str) -> Callable[[Inventory, dt.datetime], str]:
    renderer: Callable[[Inventory, dt.datetime], str] = getattr(_module(name), "render_inventory")  # noqa: B009
    return renderer
