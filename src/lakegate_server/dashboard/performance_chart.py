"""The model page's performance chart: the champion's rolling metric, as inline SVG numbers.

Built from the latest ``performance`` run's result (windows of labelled predictions, oldest
first); the template draws a polyline and the rule's threshold, no script and no CDN.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["performance_chart"]

_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 520, 180, 44, 510, 12, 150
_THRESHOLD = re.compile(r"^\s*([A-Za-z_][\w]*)\s*(<=|<|>=|>)\s*(-?[\d.]+)\s*$")


def performance_chart(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """Points of the rule's metric (else the first metric) per window; None without data."""
    if not result or not result.get("series"):
        return None
    series = result["series"]
    rule = result.get("rule") or ""
    match = _THRESHOLD.match(rule)
    metrics = [k for k in series[-1] if k not in {"end", "rows"} and series[-1][k] is not None]
    if not metrics:
        return None
    metric = match.group(1) if match and match.group(1) in metrics else metrics[0]
    values = [w.get(metric) for w in series]
    known = [v for v in values if v is not None]
    threshold = float(match.group(3)) if match and match.group(1) == metric else None
    low = min([*known, *([threshold] if threshold is not None else [])])
    high = max([*known, *([threshold] if threshold is not None else [])])
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    span = high - low

    def y(value: float) -> float:
        return round(_BOTTOM - (value - low) / span * (_BOTTOM - _TOP), 1)

    step = (_RIGHT - _LEFT) / max(len(series) - 1, 1)
    points = [
        {
            "x": round(_LEFT + i * step, 1),
            "y": y(v),
            "title": f"{w['end']}: {metric} {v:.3f} ({w['rows']} rows)",
        }
        for i, (w, v) in enumerate(zip(series, values, strict=True))
        if v is not None
    ]
    return {
        "width": _W,
        "height": _H,
        "left": _LEFT,
        "right": _RIGHT,
        "metric": metric,
        "title": f"{metric} over windows of {result.get('window')} labelled predictions",
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
        "points": points,
        "ticks": [{"at": y(v), "label": f"{v:.2f}"} for v in (low, (low + high) / 2, high)],
        "threshold": None if threshold is None else {"at": y(threshold), "label": rule},
        "latest": result.get("latest") or {},
        "labelled": result.get("labelled", 0),
        "fired": result.get("fired", False),
    }
