"""A model's performance once labels arrive: rolling metrics over labelled predictions, and a rule.

``performance:`` in a pipeline names the labels dataset, the id column joining it to the
recorded predictions, the window (the last N labelled predictions) and a rule over the
window's metrics (``f1 < 0.6``) that, when it holds, notifies or retrains.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lakegate.errors import ConfigError
from lakegate.models._promotion import _evaluate, parse_rule

if TYPE_CHECKING:
    import polars as pl

__all__ = ["PerformanceSpec", "rolling_performance", "rule_holds"]

_POINTS = 40  # windows drawn on the chart at most


class PerformanceSpec(BaseModel):
    """``performance:`` in a pipeline: where the labels are and what to do when metrics fall."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: str = Field(description="Dataset holding the true labels.")
    id: str = Field(description="Column joining labels to recorded predictions (sent with each record).")
    label: str | None = Field(None, description="Label column in the labels dataset (default: the target).")
    window: int = Field(
        1000, ge=10, le=1_000_000, description="Metrics over the last N labelled predictions."
    )
    rule: str | None = Field(None, description="When it holds, act: e.g. 'f1 < 0.6'.")
    action: Literal["notify", "retrain", "both"] = "notify"

    @field_validator("rule")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_rule(value)
            except ConfigError as exc:
                raise ValueError(exc.message.replace("promotion rule", "performance rule")) from exc
        return value


def rule_holds(rule: str, metrics: Mapping[str, Any]) -> tuple[bool, str]:
    """(does ``rule`` hold for ``metrics``, the trace of what was compared)."""
    holds, trace, _ = _evaluate(rule, dict(metrics))
    return holds, trace


def _finite(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else round(float(value), 6)


def _scores(
    task: str, y: Sequence[Any], pred: Sequence[Any], proba: Sequence[float] | None, positive: Any
) -> dict[str, float | None]:
    import numpy as np
    from sklearn import metrics as m

    if task == "regression":
        yt, yp = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
        return {
            "rmse": _finite(float(np.sqrt(m.mean_squared_error(yt, yp)))),
            "mae": _finite(float(m.mean_absolute_error(yt, yp))),
            "r2": _finite(float(m.r2_score(yt, yp))) if len(yt) > 1 else None,
        }
    truth, guess = [str(v) for v in y], [str(v) for v in pred]
    labels = sorted(set(truth) | set(guess))
    binary = positive is not None and len(labels) <= 2
    kwargs: dict[str, Any] = (
        {"average": "binary", "pos_label": str(positive)} if binary else {"average": "macro"}
    )
    out: dict[str, float | None] = {
        "accuracy": _finite(float(m.accuracy_score(truth, guess))),
        "f1": _finite(float(m.f1_score(truth, guess, zero_division=0, **kwargs))),
        "precision": _finite(float(m.precision_score(truth, guess, zero_division=0, **kwargs))),
        "recall": _finite(float(m.recall_score(truth, guess, zero_division=0, **kwargs))),
        "roc_auc": None,
    }
    if binary and proba is not None and len(set(truth)) == 2:
        hits = [1 if v == str(positive) else 0 for v in truth]
        out["roc_auc"] = _finite(float(m.roc_auc_score(hits, list(proba))))
    return out


def rolling_performance(
    joined: pl.DataFrame,
    *,
    task: str,
    window: int,
    positive: Any = None,
    proba_column: str | None = None,
) -> dict[str, Any]:
    """Metrics of the last ``window`` labelled predictions and of consecutive earlier windows.

    ``joined`` holds ``prediction``, ``label``, ``predicted_at`` (sortable) and optionally
    ``proba_column``, one row per labelled prediction. Returns ``{labelled, window, latest,
    series: [{end, rows, <metric>: value}]}`` (series oldest first, at most 40 windows).
    """
    ordered = joined.sort("predicted_at")
    total = ordered.height
    result: dict[str, Any] = {"labelled": total, "window": window, "latest": {}, "series": []}
    if total == 0:
        return result
    ends = list(range(total, 0, -window))[:_POINTS]
    series = []
    for end in reversed(ends):
        part = ordered.slice(max(end - window, 0), end - max(end - window, 0))
        proba = part.get_column(proba_column).to_list() if proba_column in part.columns else None
        scores = _scores(
            task, part.get_column("label").to_list(), part.get_column("prediction").to_list(), proba, positive
        )
        series.append({"end": str(part.get_column("predicted_at")[-1]), "rows": part.height, **scores})
    result["series"] = series
    result["latest"] = {k: v for k, v in series[-1].items() if k not in {"end", "rows"}}
    return result
