"""Renderers: one small module per output format, each a pure function of a ``Report`` (or an
``Inventory``) to text. ``FORMATS`` is the registry the command line offers."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from clientcheck import dates as dt
from clientcheck.model import Inventory, Report

FORMATS = ("text", "json")


def report_renderer(name: str) -> Callable[[Report], str]:
    module = import_module(f"clientcheck.render.{name}")
    renderer: Callable[[Report], str] = module.render_report
    return renderer


def inventory_renderer(name: str) -> Callable[[Inventory, dt.datetime], str]:
    module = import_module(f"clientcheck.render.{name}")
    renderer: Callable[[Inventory, dt.datetime], str] = module.render_inventory
    return renderer
