"""Model card: one self-contained HTML page (inline CSS, no scripts, no external links)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from lakegate.models._manifest import ModelManifest

__all__ = ["render_model_card"]

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1b1f24;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.4rem 0}
td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left}
th{background:#f4f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#667}
.bad{color:#b42318}.ok{color:#067647}code{background:#f4f5f7;padding:0 .2rem}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if i in numeric else ''}>{_fmt(v)}</td>" for i, v in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_model_card(manifest: ModelManifest, *, sha256: str | None = None, title: str | None = None) -> str:
    """Render ``manifest`` as a standalone HTML model card."""
    m = manifest
    heading = title or f"{m.pipeline}: {m.algorithm.rpartition('.')[2]} ({m.task})"
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{escape(heading)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(heading)}</h1>",
        f"<p class=muted>pipeline <code>{escape(m.pipeline)}</code> &middot; config "
        f"<code>{escape(m.config_hash[:12])}</code>"
        + (f" &middot; artifact <code>{escape(sha256[:12])}</code>" if sha256 else "")
        + "</p>",
        "<h2>Model</h2>",
        _table(
            ["task", "algorithm", "format", "target", "train rows", "test rows", "warm start"],
            [
                [
                    m.task,
                    m.algorithm,
                    m.format,
                    m.target,
                    m.training.rows_train,
                    m.training.rows_test,
                    "yes" if m.training.warm_started else "no",
                ]
            ],
            {4, 5},
        ),
    ]
    if m.classes is not None:
        parts.append(f"<p>classes: {', '.join(escape(str(c)) for c in m.classes)}</p>")
    parts += [
        "<h2>Hold-out metrics</h2>",
        _table(["metric", "value"], [[k, v] for k, v in m.metrics.items()], {1}),
    ]
    if m.cluster_sizes is not None:
        total = sum(m.cluster_sizes) or 1
        parts += [
            "<h2>Cluster sizes</h2>",
            _table(
                ["cluster", "rows", "share"],
                [[i, n, n / total] for i, n in enumerate(m.cluster_sizes)],
                {1, 2},
            ),
        ]
    parts.append("<h2>Robustness</h2>")
    if m.robustness.rows:
        rows = [
            [r.perturbation, r.level, r.metric, r.before, r.after, r.drop, r.note] for r in m.robustness.rows
        ]
        parts.append(
            _table(["perturbation", "level", "metric", "before", "after", "drop", "note"], rows, {1, 3, 4, 5})
        )
    parts += [f"<p class=muted>{escape(note)}</p>" for note in m.robustness.notes]
    parts += [
        "<h2>Parameters</h2>",
        f"<pre>{escape(json.dumps(m.params, indent=2, sort_keys=True))}</pre>",
        "<h2>Inputs (training schema)</h2>",
        _table(
            ["column", "type", "required"],
            [[c.name, c.dtype, "yes" if c.required else "no"] for c in m.input_schema],
        ),
        "<h2>Features</h2>",
        _table(["feature", "type"], [[c.name, c.dtype] for c in m.features]),
        "<h2>Provenance</h2>",
        _table(["component", "version"], [[k, v] for k, v in sorted(m.code_version.items())]),
        _table(["file", "sha256"], [[k, v] for k, v in sorted(m.files.items())]),
        "</body></html>",
    ]
    return "\n".join(parts)
