"""Inline SVG charts for the HTML report: plain strings, no JavaScript, nothing fetched.

Inline ``<svg>`` inside HTML5 needs no namespace attribute, so the page holds no URL at all.
Every text is escaped; sizes are fixed so the page lays out without scripts.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from lakegate.checks._results import Distribution

__all__ = ["CURRENT_COLOR", "REFERENCE_COLOR", "distribution_chart", "score_chart"]

REFERENCE_COLOR = "#8a9bb0"
CURRENT_COLOR = "#d9822b"
_DRIFT = "#c23030"
_OK = "#5a7d9a"


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def score_chart(items: Sequence[tuple[str, float, bool]], *, threshold: float = 1.0, title: str) -> str:
    """Horizontal bars of drift scores (``threshold`` drawn as a line), drifted ones in red."""
    row, label_w, bar_w = 18, 160, 360
    shown = list(items)[:40]
    top = max([threshold * 1.25, *(min(v, 50.0) for _, v, _ in shown)])
    height = row * len(shown) + 30
    width_all = label_w + bar_w + 60
    head = (
        f'<svg class="scores" role="img" width="{width_all}" height="{height}" '
        f'viewBox="0 0 {width_all} {height}"><title>{escape(title)}</title>'
    )
    parts = [head]
    for i, (label, value, drifted) in enumerate(shown):
        y = 10 + i * row
        width = bar_w * min(value, top) / top
        color = _DRIFT if drifted else _OK
        name = escape(label[:24])
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end" font-size="11">{name}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{width:.1f}" height="{row - 5}" fill="{color}"/>'
            f'<text x="{label_w + width + 4:.1f}" y="{y + 12}" font-size="10">{_number(value)}</text>'
        )
    x = label_w + bar_w * threshold / top
    parts.append(
        f'<line x1="{x:.1f}" y1="6" x2="{x:.1f}" y2="{height - 14}" stroke="#333" stroke-dasharray="4 3"/>'
        f'<text x="{x:.1f}" y="{height - 2}" font-size="10" text-anchor="middle">threshold</text></svg>'
    )
    return "".join(parts)


def distribution_chart(column: str, distribution: Distribution) -> str:
    """Reference (grey) vs current (orange) shares per bin or category, side by side."""
    ref, cur = list(distribution.reference), list(distribution.current)
    n = max(len(ref), 1)
    width, height, left, bottom = 520, 210, 40, 48
    plot_w, plot_h = width - left - 10, height - bottom - 22
    top = max([*ref, *cur, 1e-9]) * 1.1
    slot = plot_w / n
    head = (
        f'<svg class="dist" data-column="{escape(column, quote=True)}" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{escape(column)}: reference vs current</title>"
    )
    parts = [
        head,
        f'<line x1="{left}" y1="{22 + plot_h}" x2="{width - 10}" y2="{22 + plot_h}" stroke="#666"/>',
        f'<text x="{left - 4}" y="26" font-size="10" text-anchor="end">{_number(top)}</text>',
        f'<rect x="{left}" y="4" width="10" height="10" fill="{REFERENCE_COLOR}"/>',
        f'<text x="{left + 14}" y="13" font-size="11">reference</text>',
        f'<rect x="{left + 90}" y="4" width="10" height="10" fill="{CURRENT_COLOR}"/>',
        f'<text x="{left + 104}" y="13" font-size="11">current</text>',
    ]
    for i in range(n):
        x = left + i * slot
        for j, (values, color) in enumerate(((ref, REFERENCE_COLOR), (cur, CURRENT_COLOR))):
            value = values[i] if i < len(values) else 0.0
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x + 1 + j * (slot - 2) / 2:.1f}" y="{22 + plot_h - h:.1f}" '
                f'width="{max((slot - 2) / 2, 0.5):.1f}" height="{h:.1f}" fill="{color}">'
                f"<title>{escape(_bin_label(distribution, i))}: {value:.2%}</title></rect>"
            )
    parts.append(_axis_labels(distribution, left, slot, 22 + plot_h))
    parts.append("</svg>")
    return "".join(parts)


def _bin_label(distribution: Distribution, i: int) -> str:
    if distribution.labels is not None:
        return distribution.labels[i]
    edges = distribution.edges or ()
    if i + 1 < len(edges):
        return f"[{_number(edges[i])}, {_number(edges[i + 1])})"
    return str(i)


def _axis_labels(distribution: Distribution, left: float, slot: float, base: float) -> str:
    parts = []
    if distribution.labels is not None:
        for i, label in enumerate(distribution.labels):
            x = left + (i + 0.5) * slot
            parts.append(
                f'<text x="{x:.1f}" y="{base + 12}" font-size="9" text-anchor="end" '
                f'transform="rotate(-35 {x:.1f} {base + 12})">{escape(label[:14])}</text>'
            )
    elif distribution.edges:
        edges = distribution.edges
        step = max(1, len(edges) // 5)
        for i in range(0, len(edges), step):
            x = left + i * slot
            label = _number(edges[i])
            parts.append(
                f'<text x="{x:.1f}" y="{base + 14}" font-size="9" text-anchor="middle">{label}</text>'
            )
    return "".join(parts)
