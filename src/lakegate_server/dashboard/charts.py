"""Chart geometry for inline SVG, computed on the server: no chart library, no JavaScript.

A chart is a list of columns, each a mapping of series -> value. Positive values stack up
from zero, negative ones down (bytes "saved" are negative for files smaller than Parquet's
overhead). Templates draw the rectangles (``dashboard/_charts.html``); this module only does
the arithmetic, so it is tested without rendering.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

__all__ = ["BarChart", "Rect", "Tick", "bar_chart", "histogram", "nice_ceiling", "per_day_chart"]


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    series: str
    title: str
    negative: bool = False


@dataclass(frozen=True)
class Tick:
    """A label at a position along one axis (y for values, x for column labels)."""

    at: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    title: str
    left: float
    top: float
    right: float
    bottom: float
    zero: float
    rects: list[Rect] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    series: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.rects

    @property
    def label_x(self) -> float:
        """Where the right-aligned y tick labels end."""
        return self.left - 6

    @property
    def label_y(self) -> float:
        """The baseline of the x labels, under the plot."""
        return self.bottom + 15


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= ``value`` (0 for 0)."""
    if value <= 0:
        return 0.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0):
        if step * power >= value:
            return step * power
    return 10.0 * power


def _nice(value: float, *, binary: bool) -> float:
    """A round axis end; in powers of 1024 for bytes, so the label reads "200 KB", not "195.3 KB"."""
    if not binary or value < 1024:
        return nice_ceiling(value)
    unit = 1024.0 ** math.floor(math.log(value, 1024))
    return nice_ceiling(value / unit) * unit


def bar_chart(
    columns: Sequence[tuple[str, Mapping[str, float]]],
    *,
    title: str,
    series: Sequence[str],
    fmt: Callable[[float], str] = lambda v: f"{v:g}",
    width: int = 640,
    height: int = 200,
    axes: bool = True,
    binary: bool = False,
    label_every: int | None = None,
) -> BarChart:
    """Stacked bars, one per column, in ``series`` order, with y ticks at min, 0 and max."""
    left, top = (64.0, 10.0) if axes else (0.0, 1.0)
    right, bottom = float(width) - (8 if axes else 0), float(height) - (22 if axes else 0)
    highs = [sum(v for v in values.values() if v > 0) for _, values in columns]
    lows = [sum(v for v in values.values() if v < 0) for _, values in columns]
    high = _nice(max(highs, default=0.0), binary=binary)
    low = -_nice(-min(lows, default=0.0), binary=binary) or 0.0  # never "-0" on the axis
    span = (high - low) or 1.0

    def y_of(value: float) -> float:
        return bottom - (value - low) / span * (bottom - top)

    zero = y_of(0.0)
    slot = (right - left) / max(len(columns), 1)
    bar = max(slot * (0.7 if axes else 0.9), 1.0)
    rects: list[Rect] = []
    x_ticks: list[Tick] = []
    every = label_every or max(1, math.ceil(len(columns) / 7))
    for index, (label, values) in enumerate(columns):
        x = left + index * slot + (slot - bar) / 2
        up, down = 0.0, 0.0
        for name in series:
            value = float(values.get(name, 0) or 0)
            if value == 0:
                continue
            start = up if value > 0 else down
            end = start + value
            if value > 0:
                up = end
            else:
                down = end
            y1, y2 = sorted((y_of(start), y_of(end)))
            caption = f"{label}: {fmt(value)}" + (f" {name}" if len(series) > 1 else "")
            rects.append(
                Rect(
                    round(x, 2),
                    round(y1, 2),
                    round(bar, 2),
                    max(round(y2 - y1, 2), 0.5),
                    name,
                    caption,
                    value < 0,
                )
            )
        if axes and (len(columns) - 1 - index) % every == 0:  # the last column (today) is labelled
            x_ticks.append(Tick(round(left + index * slot + slot / 2, 2), label))
    y_ticks = []
    if axes:
        y_ticks = [Tick(round(y_of(v), 2), fmt(v)) for v in sorted({low, 0.0, high})]
    return BarChart(
        width=width,
        height=height,
        title=title,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        zero=round(zero, 2),
        rects=rects,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        series=list(series),
    )


def histogram(
    edges: Sequence[float], counts: Sequence[int], *, title: str, width: int = 120, height: int = 32
) -> BarChart | None:
    """A small axis-less histogram of a stored sketch (``edges`` has one more item than ``counts``)."""
    if not counts or len(edges) != len(counts) + 1 or not any(counts):
        return None
    columns = [
        (f"{_short(edges[i])} to {_short(edges[i + 1])}", {"rows": float(count)})
        for i, count in enumerate(counts)
    ]
    return bar_chart(
        columns,
        title=title,
        series=["rows"],
        fmt=lambda v: f"{int(v):,} row{'' if v == 1 else 's'}",
        width=width,
        height=height,
        axes=False,
    )


def per_day_chart(
    days: Sequence[tuple[date, Mapping[str, float]]],
    *,
    title: str,
    series: Sequence[str],
    fmt: Callable[[float], str] = lambda v: f"{v:g}",
    binary: bool = False,
) -> BarChart:
    """One (stacked) bar per day, labelled like "Nov 23"."""
    columns = [(f"{day:%b} {day.day}", values) for day, values in days]
    return bar_chart(columns, title=title, series=series, fmt=fmt, binary=binary)


def _short(value: float) -> str:
    return f"{value:.4g}"
