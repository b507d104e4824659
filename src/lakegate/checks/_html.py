"""``render_html(report)``: one self-contained page (inline CSS and SVG, no scripts, no URLs).

Rendering reads only the report, so a stored report's JSON (``CheckReport.from_dict``) renders
the same page later. Sections: verdict and summary, then per check its reasons and details:
contract failures, a drift-score bar chart and a reference-vs-current chart per drifted column,
text-drift AUCs, the most anomalous rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from lakegate.checks._report import CheckReport
from lakegate.checks._results import (
    AnomalyDetails,
    CheckResult,
    CompletenessDetails,
    ContractDetails,
    DriftDetails,
    SchemaDetails,
    TextDriftDetails,
)
from lakegate.checks._svg import distribution_chart, score_chart

__all__ = ["render_html"]

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1f2933;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d9dee3}
h3{font-size:15px;margin:18px 0 6px} table{border-collapse:collapse;margin:6px 0 12px}
td,th{border:1px solid #d9dee3;padding:3px 8px;text-align:left;vertical-align:top;font-size:13px}
th{background:#f3f5f7} .muted{color:#66788a} code{font-size:12px}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;color:#fff;font-weight:600;font-size:12px}
.pass{background:#2f8132}.warn{background:#c87619}.fail{background:#c23030}.skip{background:#7b8794}
.charts{display:flex;flex-wrap:wrap;gap:12px} figure{margin:0} figcaption{font-size:12px;color:#66788a}
"""


def _badge(status: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(status.upper())}</span>'


def _cell(value: Any) -> str:
    if value is None:
        return '<span class="muted">-</span>'
    if isinstance(value, float):
        return escape(f"{value:.4g}")
    return escape(str(value))


def _example(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


def _pairs(rows: Iterable[tuple[str, Any]], *, raw: bool = False) -> str:
    """A two-column key/value table without a header."""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{v if raw else _cell(v)}</td></tr>" for k, v in rows)
    return f"<table><tbody>{body}</tbody></table>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, raw: bool = False) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{v if raw else _cell(v)}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: CheckReport) -> str:
    """The report as one HTML page (UTF-8 text)."""
    title = f"Quality report: {report.dataset or 'batch'}" + (f" {report.version}" if report.version else "")
    meta = [
        ("status", _badge(report.status.value)),
        ("created", escape(report.created_at.isoformat(timespec="seconds"))),
        ("checks", escape(", ".join(f"{n} {s.value}" for s, n in report.counts.items() if n))),
        ("seconds", escape(f"{report.seconds:.3f}")),
    ]
    if report.reference is not None:
        versions = ", ".join(report.reference.versions) or "(unnamed)"
        meta.append(("reference", escape(f"{versions}; {report.reference.rows} rows")))
    summary = _table(
        ["check", "kind", "status", "findings", "seconds"],
        [
            (escape(c.name), escape(c.kind), _badge(c.status.value), str(len(c.reasons)), f"{c.seconds:.3f}")
            for c in report.checks
        ],
        raw=True,
    )
    sections = "".join(_section(check) for check in report.checks)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        + _pairs(meta, raw=True)
        + summary
        + sections
        + f'<p class="muted">lakegate check report, schema version {report.schema_version}</p>'
        + "</body></html>"
    )


def _section(check: CheckResult) -> str:
    parts = [f"<h2>{escape(check.name)} {_badge(check.status.value)}</h2>"]
    if check.reasons:
        parts.append(
            _table(
                ["status", "code", "column", "finding"],
                [
                    (_badge(r.status.value), escape(r.code.value), _cell(r.column), escape(r.message))
                    for r in check.reasons
                ],
                raw=True,
            )
        )
    details = check.details
    if isinstance(details, SchemaDetails):
        parts.append(_schema(details))
    elif isinstance(details, ContractDetails):
        parts.append(_contract(details))
    elif isinstance(details, DriftDetails):
        parts.append(_drift(details))
    elif isinstance(details, TextDriftDetails):
        parts.append(_text(details))
    elif isinstance(details, AnomalyDetails):
        parts.append(_anomalies(details))
    elif isinstance(details, CompletenessDetails):
        parts.append(_completeness(details))
    return "".join(parts)


def _schema(details: SchemaDetails) -> str:
    rows = [
        ("rows", details.rows),
        ("columns", details.columns),
        ("missing", ", ".join(details.missing) or None),
        ("new", ", ".join(details.new) or None),
        (
            "type changes",
            ", ".join(f"{t.column}: {t.reference} -> {t.current}" for t in details.type_changes) or None,
        ),
        ("all null", ", ".join(details.all_null) or None),
        ("constant", ", ".join(details.constant) or None),
    ]
    return _pairs(rows)


def _completeness(details: CompletenessDetails) -> str:
    shown = sorted(details.columns, key=lambda c: (not c.failed, c.column))
    return _table(
        ["column", "null % (reference)", "null % (batch)", "nulls", "failed"],
        [(c.column, c.null_pct_reference, c.null_pct_current, c.nulls, c.failed) for c in shown],
    )


def _contract(details: ContractDetails) -> str:
    summary = f"<p>{details.rows} rows, {details.columns_checked} columns checked.</p>"
    if not details.failures:
        return summary + "<p>Every rule holds.</p>"
    rows = [
        (f.column, f.check, f.failures, ", ".join(_example(e) for e in f.examples), f.message)
        for f in details.failures
    ]
    return (
        summary
        + "<h3>Contract failures</h3>"
        + _table(["column", "rule", "failing rows", "examples", "detail"], rows)
    )


def _drift(details: DriftDetails) -> str:
    compared = details.sampled_rows or details.current_rows
    sizes = f"{details.current_rows} rows ({compared} compared), reference {details.reference_rows} rows"
    parts = [f"<p>{sizes}.</p>"]
    scored = sorted((c for c in details.columns if c.score is not None), key=lambda c: -(c.score or 0.0))
    if scored:
        items = [(c.column + (" (label)" if c.label else ""), c.score or 0.0, c.drifted) for c in scored]
        parts.append("<h3>Drift scores (statistic / threshold)</h3>")
        parts.append(score_chart(items, title="drift score per column"))
    charts = [
        f"<figure>{distribution_chart(c.column, c.plot)}<figcaption>{escape(c.column)}: "
        f"{escape(', '.join(c.triggered))}</figcaption></figure>"
        for c in details.columns
        if c.drifted and c.plot is not None
    ]
    if charts:
        parts.append(
            '<h3>Drifted columns: reference vs current</h3><div class="charts">' + "".join(charts) + "</div>"
        )
    table = [
        (
            c.column + (" (label)" if c.label else ""),
            c.kind,
            "yes" if c.drifted else ("skipped: " + c.skipped.value if c.skipped else "no"),
            c.score,
            c.stats.ks,
            c.stats.ks_pvalue,
            c.stats.psi,
            c.stats.wasserstein,
            c.stats.chi2_pvalue,
            f"{c.stats.null_pct_reference} -> {c.stats.null_pct_current}" if c.skipped is None else None,
        )
        for c in details.columns
    ]
    headers = ["column", "kind", "drifted", "score", "KS", "KS p", "PSI", "W1/scale", "chi2 p", "null %"]
    return "".join(parts) + "<h3>All columns</h3>" + _table(headers, table)


def _text(details: TextDriftDetails) -> str:
    rows = [
        (
            c.column,
            "yes" if c.drifted else ("skipped: " + c.skipped.value if c.skipped else "no"),
            c.auc,
            c.pvalue,
            f"{c.reference_rows} / {c.current_rows}",
            ", ".join(c.terms_current) or None,
            ", ".join(c.terms_reference) or None,
        )
        for c in details.columns
    ]
    headers = [
        "column",
        "drifted",
        "AUC",
        "p-value",
        "texts ref / cur",
        "more in current",
        "more in reference",
    ]
    return f"<p>Embeddings: {escape(details.embedder)}.</p>" + _table(headers, rows)


def _anomalies(details: AnomalyDetails) -> str:
    summary = _pairs(
        [
            ("rows scored", f"{details.scored_rows} of {details.current_rows}"),
            ("anomalous", f"{details.anomalous_rows} ({details.anomalous_share:.2%})"),
            ("expected", f"{details.expected_share:.2%}"),
            ("ratio", details.ratio),
            ("p-value", details.pvalue),
            ("features", ", ".join(details.features) or None),
        ],
    )
    if not details.top:
        return summary
    columns = list(details.top[0].values)
    rows = [(r.row, r.score, *(r.values.get(c) for c in columns)) for r in details.top]
    return summary + "<h3>Most anomalous rows</h3>" + _table(["row", "score", *columns], rows)
