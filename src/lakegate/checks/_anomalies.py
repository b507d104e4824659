"""The ``anomalies`` check: row-level outliers with an IsolationForest.

Fit on the reference *sample* (scikit-learn, ``random_state=seed``, ``n_jobs=1``), score the
batch (hash-sampled to ``max_rows``). Features: numeric columns (nulls and NaN -> reference
median, plus a 0/1 null indicator), booleans as 0/1 (null 0.5), and categorical text
as the value's frequency in the reference sample (unseen values -> 0, so a new category
looks rare). Free text (more than half the sample's values distinct) and temporal columns
are left out.

The anomaly threshold is the ``contamination`` quantile of the reference sample's own scores,
so by construction about ``contamination`` of reference-like rows fall below it. The batch's
share below it, divided by ``contamination``, is the ``ratio``; a one-sided binomial test
gives its p-value. Verdict: ``anomaly_rate`` warns past ``warn_ratio`` and fails past
``fail_ratio``, each only when significant. The ``top_k`` lowest-scoring rows are reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from lakegate.checks._config import AnomalyConfig
from lakegate.checks._context import CheckContext
from lakegate.checks._frame import json_value, kind, row_count
from lakegate.checks._results import AnomalousRow, AnomalyDetails, CheckResult
from lakegate.checks._sample import ROW_COLUMN, sample_rows
from lakegate.checks._types import ReasonCode, Status, finite

if TYPE_CHECKING:
    import polars as pl

__all__ = ["compute_anomalies"]

Matrix = npt.NDArray[np.float64]


def compute_anomalies(config: AnomalyConfig, context: CheckContext) -> CheckResult:
    """Run the anomaly check (pure: reads the batch and the reference sample, returns a result)."""
    reference = context.reference
    sample = reference.sample if reference is not None else None
    if sample is None:
        return config.result(
            [config.reason(ReasonCode.NO_REFERENCE_SAMPLE, "no reference sample to learn from")]
        )
    rows = row_count(context.current)
    base = {"reference_rows": sample.height, "current_rows": rows, "expected_share": config.contamination}
    if sample.height < config.min_rows or rows == 0:
        few = "reference sample" if sample.height < config.min_rows else "batch"
        reason = config.reason(ReasonCode.TOO_FEW_ROWS, f"too few rows in the {few} to score anomalies")
        return config.result([reason], AnomalyDetails(**base, scored_rows=0, features=()))
    current = sample_rows(context.current, config.max_rows, seed=config.seed, keep_position=True)
    features = _features(config, sample, current)
    if not features:
        reason = config.reason(ReasonCode.NOTHING_TO_CHECK, "no numeric or categorical column to score")
        return config.result([reason], AnomalyDetails(**base, scored_rows=current.height, features=()))
    encoders = _encoders(sample, features)
    train, test = _matrix(sample, encoders), _matrix(current, encoders)

    from sklearn.ensemble import IsolationForest
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    forest = IsolationForest(n_estimators=config.n_estimators, random_state=config.seed, n_jobs=1)
    with threadpool_limits(limits=1):
        forest.fit(train)
        threshold = float(np.quantile(forest.score_samples(train), config.contamination))
        scores = forest.score_samples(test)
    flagged = int(np.sum(scores < threshold))
    share = flagged / len(scores)
    ratio = share / config.contamination
    pvalue = _binomial_pvalue(flagged, len(scores), config.contamination)
    order = np.argsort(scores, kind="stable")[: min(config.top_k, flagged)]
    positions = current[ROW_COLUMN].to_numpy()
    shown = [c for c in current.columns if c != ROW_COLUMN]
    top = tuple(
        AnomalousRow(
            row=int(positions[i]),
            score=finite(scores[i]) or 0.0,
            values={c: json_value(current[c][int(i)]) for c in shown},
        )
        for i in order
    )
    details = AnomalyDetails(
        **base,
        scored_rows=len(scores),
        features=tuple(features),
        threshold=finite(threshold),
        anomalous_rows=flagged,
        anomalous_share=finite(share) or 0.0,
        ratio=finite(ratio),
        pvalue=finite(pvalue),
        top=top,
    )
    reasons = []
    if pvalue < config.significance and ratio >= config.warn_ratio:
        status = Status.FAIL if ratio >= config.fail_ratio else Status.WARN
        message = f"{share:.1%} of rows are anomalous, {ratio:.1f}x the expected {config.contamination:.1%}"
        reasons.append(
            config.reason(
                ReasonCode.ANOMALY_RATE,
                message,
                value=finite(ratio),
                threshold=config.warn_ratio,
                status=status,
            )
        )
    return config.result(reasons, details)


def _binomial_pvalue(k: int, n: int, p: float) -> float:
    from scipy.special import bdtrc  # P(X > k - 1) = P(X >= k) for X ~ Binomial(n, p)

    return float(bdtrc(k - 1, n, p)) if k > 0 else 1.0


def _features(config: AnomalyConfig, sample: pl.DataFrame, current: pl.DataFrame) -> list[str]:
    names = [n for n in (config.columns or sample.columns) if n in sample.columns and n in current.columns]
    chosen = []
    for name in names:
        if name in config.exclude or name == ROW_COLUMN:
            continue
        ref_kind, cur_kind = kind(sample.schema[name]), kind(current.schema[name])
        if ref_kind != cur_kind or ref_kind in {"temporal", "other"}:
            continue
        if ref_kind == "text":
            values = sample[name].drop_nulls()
            if values.len() == 0 or values.n_unique() > 0.5 * values.len():
                continue
        chosen.append(name)
    return chosen


Encoder = tuple[str, str, Any]


def _encoders(sample: pl.DataFrame, features: list[str]) -> list[Encoder]:
    import polars as pl

    encoders: list[Encoder] = []
    for name in features:
        column_kind = kind(sample.schema[name])
        if column_kind == "text":
            counts = sample[name].cast(pl.String).value_counts()
            freq = {v: n / sample.height for v, n in counts.iter_rows()}
            encoders.append((name, "frequency", freq))
        elif column_kind == "bool":
            encoders.append((name, "bool", None))
        else:
            median = sample[name].cast(pl.Float64).median()
            encoders.append((name, "numeric", float(median) if isinstance(median, int | float) else 0.0))
    return encoders


def _matrix(frame: pl.DataFrame, encoders: list[Encoder]) -> Matrix:
    import polars as pl

    columns: list[Matrix] = []
    for name, how, state in encoders:
        series = frame[name]
        if how == "frequency":
            freq: Mapping[Any, float] = state
            values = series.cast(pl.String).to_list()
            columns.append(np.array([freq.get(v, 0.0) for v in values], dtype=np.float64))
        elif how == "bool":
            columns.append(series.cast(pl.Float64).fill_null(0.5).to_numpy().astype(np.float64))
        else:
            numbers = series.cast(pl.Float64).to_numpy().astype(np.float64)
            missing = ~np.isfinite(numbers)
            columns.append(np.where(missing, float(state), numbers))
            columns.append(missing.astype(np.float64))
    return np.column_stack(columns) if columns else np.zeros((frame.height, 0))
