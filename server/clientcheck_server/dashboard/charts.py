"""Trend charts drawn on the server as SVG: no chart library, nothing fetched, no script. Each chart is
a stack of areas over the days of the period (a day without a rollup is a gap, not a guessed value), with
its axes labelled, a title and a description for screen readers; the page shows the same numbers as a
table beside it. Everything written into the SVG is a number of ours or escaped text."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 62, 16, 16, 34


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    css: str  # a class of the stylesheet that colours it


def _nice_ceiling(value: int) -> tuple[int, int]:
    """An axis maximum at or above ``value`` and the step between its ticks (1, 2 or 5 times a power of ten)."""
    if value <= 4:
        return 4, 1
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return int(math.ceil(value / step) * step), int(step)


def _runs(days: list[dt.date]) -> list[list[int]]:
    """Indexes of consecutive days, each run drawn as its own shape (a missing day is a gap)."""
    runs: list[list[int]] = []
    for index, day in enumerate(days):
        if runs and (day - days[runs[-1][-1]]).days == 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def stacked(
    first: dt.date,
    last: dt.date,
    points: Sequence[dict[str, object]],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "hosts",
    ident: str = "trend",
) -> str:
    """An SVG of ``series`` stacked bottom to top, one point a day from ``first`` to ``last``. Each point is
    a mapping with ``day`` and a count per series key."""
    span = max(1, (last - first).days)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    days = [p["day"] for p in points if isinstance(p["day"], dt.date)]
    totals = [sum(int(p[s.key]) for s in series) for p in points]  # type: ignore[call-overload]
    top, step = _nice_ceiling(max(totals, default=0))

    def x(day: dt.date) -> float:
        return LEFT + plot_w * (day - first).days / span

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{ident}-t {ident}-d"'
        ' xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{ident}-t">{escape(title)}</title>',
    ]
    if points:
        newest = points[-1]
        said = ", ".join(f"{newest[s.key]} {s.label}" for s in series)
        description = f"From {first.isoformat()} to {last.isoformat()}; on {days[-1].isoformat()}: {said}."
    else:
        description = f"No daily counts from {first.isoformat()} to {last.isoformat()} yet."
    parts.append(f'<desc id="{ident}-d">{escape(description)}</desc>')
    # Grid and the vertical axis's labels.
    for tick in range(0, top + 1, step):
        ty = y(tick)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick:,}</text>')
    # The horizontal axis: about six dates.
    every = max(1, math.ceil((span + 1) / 6))
    for offset in range(0, span + 1, every):
        day = first + dt.timedelta(days=offset)
        tx = x(day)
        parts.append(
            f'<text class="axis" x="{tx:.1f}" y="{HEIGHT - 10}" text-anchor="middle">{day:%b} {day.day}</text>'
        )
    # The areas: for each run of consecutive days, each series from its base to its top.
    for run in _runs(days):
        base = [0.0] * len(run)
        for item in series:
            values = [base[i] + float(points[k][item.key]) for i, k in enumerate(run)]  # type: ignore[arg-type]
            if any(v != b for v, b in zip(values, base, strict=True)):
                if len(run) == 1:  # one day alone: a bar a day wide
                    day = days[run[0]]
                    half = max(2.0, plot_w / span / 2)
                    x0, x1 = x(day) - half, x(day) + half
                    parts.append(
                        f'<rect class="{item.css}" x="{x0:.1f}" y="{y(values[0]):.1f}" width="{x1 - x0:.1f}"'
                        f' height="{max(0.0, y(base[0]) - y(values[0])):.1f}"/>'
                    )
                else:
                    upper = [f"{x(days[k]):.1f},{y(v):.1f}" for k, v in zip(run, values, strict=True)]
                    lower = [f"{x(days[k]):.1f},{y(b):.1f}" for k, b in zip(reversed(run), reversed(base), strict=True)]
                    parts.append(f'<polygon class="{item.css}" points="{" ".join(upper + lower)}"/>')
            base = values
    parts.append(
        f'<line class="axis-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>'
        f'<text class="axis" transform="rotate(-90)" x="{-(TOP + plot_h / 2):.1f}" y="13" text-anchor="middle">'
        f"{escape(unit)}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
