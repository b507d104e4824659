"""The churn pipeline and customer tables the training tests use (no Django here: e2e too)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from tests.core.mldata import customers

CHURN: dict[str, Any] = {
    "inputs": ["customers"],
    "target": "churned",
    "steps": [
        {"fill_nulls": {"income": "median"}},
        {"one_hot": ["city", "plan"]},
        {"date_parts": {"columns": ["signup_date"], "parts": ["month"]}},
    ],
    "model": {
        "task": "classification",
        "algorithm": "lightgbm",
        "params": {"n_estimators": 25, "num_leaves": 15},
        "exclude": ["customer_id"],
        "positive_class": True,
    },
    "metrics": ["f1", "roc_auc", "accuracy"],
    "robustness": {"noise": [0.5], "swap": 0.1, "missing": 0.1},
    "promotion": {"rule": "f1 >= champion.f1 + 0.01", "floor": "f1 >= 0.3"},
    "triggers": [{"on_new_version": "customers"}, "manual"],
    "predict_on": "customers_current",
    "id_columns": ["customer_id"],
    "seed": 7,
}


def customer_frame(n: int = 1500, seed: int = 0, *, noise: float = 0.0, start_id: int = 1) -> pl.DataFrame:
    """Customers with a learnable churn label; ``noise`` shuffles that share of the labels
    among themselves (the label's distribution stays, its link to the features goes)."""
    frame = customers(n=n, seed=seed).with_columns(pl.col("customer_id") + (start_id - 1))
    if noise:
        rng = np.random.default_rng(seed + 1000)
        labels = frame["churned"].to_numpy().copy()
        picked = np.flatnonzero(rng.random(n) < noise)
        labels[picked] = rng.permutation(labels[picked])
        frame = frame.with_columns(pl.Series("churned", labels))
    return frame
