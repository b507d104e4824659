"""A model version as a pull-request comment: markdown + SVG charts beside it (CML style).

    write_pr_report(version, champion, out_dir)   # -> out_dir/report.md, metrics.svg, robustness.svg

``version`` and ``champion`` are the registry's records (``ModelVersion.to_dict()``): metrics,
robustness rows, lineage (training data versions with their gate verdicts) and the promotion
decision. The charts are plain SVG written here (no plotting library): GitHub renders them
when the workflow uploads them beside the comment, and any browser opens them.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakegate._atomic import write_bytes_atomic

__all__ = ["PrReport", "write_pr_report"]

_BAR_COLORS = ("#4c78a8", "#f58518")


@dataclass(frozen=True)
class PrReport:
    markdown: Path
    charts: list[Path]

    def to_dict(self) -> dict[str, Any]:
        return {"markdown": str(self.markdown), "charts": [str(c) for c in self.charts]}


def _num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else "-"


def _delta(value: Any, reference: Any) -> str:
    if not isinstance(value, int | float) or not isinstance(reference, int | float):
        return "-"
    diff = value - reference
    return f"{diff:+.4g}"


def _metrics_table(version: Mapping[str, Any], champion: Mapping[str, Any] | None) -> list[str]:
    metrics: dict[str, Any] = dict(version.get("metrics") or {})
    if champion is None or champion.get("version") == version.get("version"):
        lines = ["| metric | this version |", "| --- | --- |"]
        lines += [f"| {name} | {_num(value)} |" for name, value in metrics.items()]
        return lines
    theirs: dict[str, Any] = dict(champion.get("metrics") or {})
    lines = [
        f"| metric | v{version['version']} | champion v{champion['version']} | change |",
        "| --- | --- | --- | --- |",
    ]
    for name in [*metrics, *(m for m in theirs if m not in metrics)]:
        lines.append(
            f"| {name} | {_num(metrics.get(name))} | {_num(theirs.get(name))} | "
            f"{_delta(metrics.get(name), theirs.get(name))} |"
        )
    return lines


def _robustness_table(version: Mapping[str, Any]) -> list[str]:
    rows = (version.get("robustness") or {}).get("rows") or []
    if not rows:
        return ["_No robustness evaluation recorded._"]
    lines = [
        "| perturbation | level | metric | before | after | drop |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines.extend(
        f"| {row['perturbation']} | {_num(row['level'])} | {row['metric']} | {_num(row.get('before'))} | "
        f"{_num(row.get('after'))} | {_num(row.get('drop'))} |"
        for row in rows
    )
    return lines


def _data_table(version: Mapping[str, Any]) -> list[str]:
    lineage = version.get("lineage") or []
    if not lineage:
        return ["_No training data recorded._"]
    lines = ["| dataset | versions | rows | gate |", "| --- | --- | --- | --- |"]
    for item in lineage:
        gate = ", ".join(
            f"v{g['version']} {g.get('status', '')} ({g.get('verdict') or '-'})" for g in item.get("gate", [])
        )
        versions = ", ".join(f"v{n}" for n in item.get("versions", []))
        lines.append(f"| {item['dataset']} | {versions} | {item.get('rows', 0):,} | {gate or '-'} |")
    return lines


def _bar_chart(title: str, groups: list[tuple[str, list[float | None]]], legend: list[str]) -> str:
    """A grouped horizontal bar chart as SVG text (values drawn to scale from 0)."""
    width, label_w, bar_h, gap = 640, 160, 16, 10
    series = max((len(values) for _, values in groups), default=1)
    group_h = series * bar_h + gap
    height = 50 + len(groups) * group_h + 20 * len(legend)
    values = [abs(v) for _, vs in groups for v in vs if v is not None]
    scale = (width - label_w - 70) / (max(values) or 1.0) if values else 1.0
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            'font-family="sans-serif" font-size="12">'
        ),
        f'<text x="8" y="20" font-size="14" font-weight="bold">{html.escape(title)}</text>',
    ]
    y = 36
    for label, vs in groups:
        parts.append(f'<text x="8" y="{y + bar_h - 3}">{html.escape(label)}</text>')
        for index, value in enumerate(vs):
            top = y + index * bar_h
            if value is None:
                continue
            length = max(abs(value) * scale, 1.0)
            color = _BAR_COLORS[index % len(_BAR_COLORS)]
            parts.append(
                f'<rect x="{label_w}" y="{top}" width="{length:.1f}" height="{bar_h - 2}" fill="{color}"/>'
            )
            parts.append(f'<text x="{label_w + length + 4:.1f}" y="{top + bar_h - 4}">{value:.4g}</text>')
        y += group_h
    for index, name in enumerate(legend):
        color = _BAR_COLORS[index % len(_BAR_COLORS)]
        parts.append(f'<rect x="8" y="{y + 4}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="24" y="{y + 13}">{html.escape(name)}</text>')
        y += 20
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_pr_report(
    version: Mapping[str, Any], champion: Mapping[str, Any] | None, out_dir: Path
) -> PrReport:
    """Write ``report.md`` and its charts into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name, number = version["name"], version["version"]
    compare = champion is not None and champion.get("version") != number
    metrics: dict[str, Any] = dict(version.get("metrics") or {})
    theirs: dict[str, Any] = dict(champion.get("metrics") or {}) if champion and compare else {}
    legend = [f"v{number}"] + ([f"champion v{champion['version']}"] if champion and compare else [])
    metric_groups = [
        (
            m,
            [float(metrics[m]) if isinstance(metrics.get(m), int | float) else None]
            + ([float(theirs[m]) if isinstance(theirs.get(m), int | float) else None] if compare else []),
        )
        for m in metrics
    ]
    charts = [out_dir / "metrics.svg"]
    write_bytes_atomic(charts[0], _bar_chart(f"{name}: metrics", metric_groups, legend).encode())
    rows = (version.get("robustness") or {}).get("rows") or []
    if rows:
        drops = [(f"{r['perturbation']} {_num(r['level'])} ({r['metric']})", [r.get("drop")]) for r in rows]
        charts.append(out_dir / "robustness.svg")
        write_bytes_atomic(
            charts[1],
            _bar_chart(f"{name} v{number}: metric drop under perturbation", drops, [f"v{number}"]).encode(),
        )
    decision = (version.get("decision") or {}).get("reason", "")
    sha = str(version.get("sha256", ""))
    lines = [
        f"## Model `{name}` v{number}: {version.get('stage', '')}",
        "",
        f"{version.get('algorithm', '')} ({version.get('task', '')}), sha256 `{sha[:12]}`",
        "",
        f"**Promotion decision:** {decision or '-'}",
        "",
        "### Metrics" + (f" against the champion (v{champion['version']})" if champion and compare else ""),
        "",
        *_metrics_table(version, champion),
        "",
        "![metrics](metrics.svg)",
        "",
        "### Robustness",
        "",
        *_robustness_table(version),
        "",
        *(["![robustness](robustness.svg)", ""] if rows else []),
        "### Training data",
        "",
        *_data_table(version),
        "",
        "<sub>Written by `lakegate models report`.</sub>",
    ]
    markdown = out_dir / "report.md"
    write_bytes_atomic(markdown, ("\n".join(lines) + "\n").encode("utf-8"))
    return PrReport(markdown=markdown, charts=charts)
