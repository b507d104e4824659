"""Rolling performance once labels arrive: windows of labelled predictions, metrics, the rule."""

from __future__ import annotations

import polars as pl
import pytest
from pydantic import ValidationError

from lakegate.models import PerformanceSpec, rolling_performance, rule_holds


def _joined(n: int, wrong_from: int) -> pl.DataFrame:
    """n labelled predictions; from row ``wrong_from`` on, every prediction is wrong."""
    labels = ["yes" if i % 2 else "no" for i in range(n)]
    predictions = [
        lab if i < wrong_from else ("no" if lab == "yes" else "yes") for i, lab in enumerate(labels)
    ]
    return pl.DataFrame(
        {
            "predicted_at": [f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}" for i in range(n)],
            "prediction": predictions,
            "label": labels,
            "proba_yes": [0.9 if p == "yes" else 0.1 for p in predictions],
        }
    ).sample(fraction=1.0, shuffle=True, seed=3)  # order comes from predicted_at, not the rows


def test_windows_of_the_last_n_labelled_oldest_first():
    result = rolling_performance(
        _joined(250, wrong_from=200),
        task="classification",
        window=100,
        positive="yes",
        proba_column="proba_yes",
    )
    assert result["labelled"] == 250
    assert [w["rows"] for w in result["series"]] == [50, 100, 100]
    first, middle, last = result["series"]
    assert first["f1"] == 1.0
    assert middle["accuracy"] == 1.0
    assert last["accuracy"] == 0.5, "half of the last 100 are the wrong ones"
    assert result["latest"] == {k: v for k, v in last.items() if k not in {"end", "rows"}}
    assert last["end"] == "2026-01-01T00:04:09"
    assert last["roc_auc"] == 0.5


def test_regression_metrics_and_no_labels():
    frame = pl.DataFrame(
        {"predicted_at": ["a", "b", "c"], "prediction": [1.0, 2.0, 3.0], "label": [1.0, 2.0, 5.0]}
    )
    result = rolling_performance(frame, task="regression", window=10)
    assert result["latest"]["mae"] == pytest.approx(2 / 3, abs=1e-6)
    empty = rolling_performance(frame.head(0), task="regression", window=10)
    assert (empty["labelled"], empty["series"], empty["latest"]) == (0, [], {})


def test_the_rule_and_its_trace():
    assert rule_holds("f1 < 0.6", {"f1": 0.5}) == (True, "f1 (0.5) < 0.6: yes")
    holds, _ = rule_holds("f1 < 0.6 or accuracy < 0.7", {"f1": 0.8, "accuracy": 0.9})
    assert not holds


def test_the_spec_refuses_a_bad_rule_or_window():
    with pytest.raises(ValidationError, match="performance rule"):
        PerformanceSpec(labels="l", id="id", rule="__import__('os')")
    with pytest.raises(ValidationError, match="window"):
        PerformanceSpec(labels="l", id="id", window=1)
