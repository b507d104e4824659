"""Display filters: numbers, percentages, durations and JSON, the same way on every page."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

register = template.Library()

EMPTY = "\u2013"  # en dash: "no value"
MINUS = "\u2212"
TIMES = "\u00d7"


@register.filter
def num(value: Any) -> str:
    """Thousands separators for big numbers, four significant digits for small ones."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return _float(value) if isinstance(value, float) else f"{value:,}"


def _float(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.4g}"


@register.filter
def signed(value: Any) -> str:
    """A change with its sign (a true minus sign): ``+2.5``, ``-1,000``; empty for none."""
    if not isinstance(value, int | float) or value == 0:
        return ""
    text = num(abs(value))
    return f"+{text}" if value > 0 else f"{MINUS}{text}"


@register.filter
def pct(value: Any) -> str:
    if not isinstance(value, int | float):
        return EMPTY
    return f"{float(value):.1f} %"


@register.filter
def share(value: Any) -> str:
    """A fraction (0.375) as a percentage (37.5 %)."""
    if not isinstance(value, int | float):
        return EMPTY
    return f"{float(value) * 100:.1f} %"


@register.filter
def ratio(value: Any) -> str:
    if not value:
        return EMPTY
    return f"{float(value):.2f}{TIMES}"


@register.filter
def duration(run: Any) -> str:
    """How long a run took (or has been running), as ``1 h 2 min``, ``3.4 s``."""
    started: datetime | None = getattr(run, "started_at", None)
    if started is None:
        return EMPTY
    end = getattr(run, "finished_at", None) or timezone.now()
    seconds = max((end - started).total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


@register.filter
def compact(value: Any) -> str:
    """A log field value on one line: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


@register.filter
def ago(value: datetime | None) -> str:
    """``3 minutes ago``; ``just now`` under a minute (timesince alone says "0 minutes").

    A moment still ahead (a run waiting out its retry back-off is due then) reads ``in 20 s``
    or ``in 4 minutes``.
    """
    if value is None:
        return EMPTY
    seconds = (timezone.now() - value).total_seconds()
    if seconds < -1:
        return f"in {round(-seconds)} s" if seconds > -60 else f"in {timeuntil(value)}"
    if seconds < 60:
        return "just now"
    return f"{timesince(value)} ago"
