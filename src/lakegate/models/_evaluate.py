"""Hold-out metrics per task.

Classification: accuracy, f1, precision, recall (binary: of the positive class; multiclass:
macro average) and roc_auc (one-vs-rest for multiclass). Regression: rmse, mae, r2.
Clustering: silhouette (on at most 2,000 sampled rows) and inertia (sum of squared
distances to the nearest centre). A metric that is undefined on the data (one class in
the hold-out, a single cluster) is ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lakegate.models._tasks import METRICS, Task

if TYPE_CHECKING:
    import numpy as np

    from lakegate.models.trainers import FittedModel

__all__ = ["cluster_sizes", "evaluate", "inertia", "score_predictions"]

_SILHOUETTE_SAMPLE = 2000


def evaluate(
    model: FittedModel,
    x: np.ndarray,
    y: np.ndarray | None,
    *,
    task: Task,
    metrics: Sequence[str] | None = None,
    n_classes: int = 0,
    seed: int = 0,
) -> dict[str, float | None]:
    """Score ``model`` on ``x`` (and labels ``y``); ``metrics`` defaults to all of the task's."""
    wanted = tuple(metrics or METRICS[task])
    values = model.predict_values(x)
    proba = model.predict_proba(x) if task == "classification" else None
    centers = model.cluster_centers() if task == "clustering" else None
    return score_predictions(
        task, wanted, x=x, y=y, values=values, proba=proba, centers=centers, n_classes=n_classes, seed=seed
    )


def score_predictions(
    task: Task,
    metrics: Sequence[str],
    *,
    x: np.ndarray,
    y: np.ndarray | None,
    values: np.ndarray,
    proba: np.ndarray | None,
    centers: np.ndarray | None,
    n_classes: int,
    seed: int,
) -> dict[str, float | None]:
    """Metrics from predictions already made (robustness reuses this on perturbed inputs)."""
    if task == "classification":
        assert y is not None
        scores = _classification(y, values, proba, n_classes)
    elif task == "regression":
        assert y is not None
        scores = _regression(y, values)
    else:
        scores = _clustering(x, values, centers, seed)
    return {name: _finite(scores.get(name)) for name in metrics}


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else float(value)


def _classification(
    y: np.ndarray, values: np.ndarray, proba: np.ndarray | None, n_classes: int
) -> dict[str, float | None]:
    import numpy as np
    from sklearn import metrics as m

    binary = n_classes <= 2
    average = "binary" if binary else "macro"
    labels = list(range(max(n_classes, 2)))
    scores: dict[str, float | None] = {
        "accuracy": float(m.accuracy_score(y, values)),
        "f1": float(m.f1_score(y, values, average=average, labels=labels, zero_division=0)),
        "precision": float(m.precision_score(y, values, average=average, labels=labels, zero_division=0)),
        "recall": float(m.recall_score(y, values, average=average, labels=labels, zero_division=0)),
        "roc_auc": None,
    }
    if proba is not None and len(np.unique(y)) == max(n_classes, 2):
        if binary:
            scores["roc_auc"] = float(m.roc_auc_score(y, proba[:, 1]))
        else:
            scores["roc_auc"] = float(m.roc_auc_score(y, proba, multi_class="ovr", labels=labels))
    return scores


def _regression(y: np.ndarray, values: np.ndarray) -> dict[str, float | None]:
    import numpy as np
    from sklearn import metrics as m

    return {
        "rmse": float(np.sqrt(m.mean_squared_error(y, values))),
        "mae": float(m.mean_absolute_error(y, values)),
        "r2": float(m.r2_score(y, values)) if len(y) > 1 else None,
    }


def inertia(x: np.ndarray, centers: np.ndarray) -> float:
    """Sum of squared distances from each row to its nearest centre."""
    import numpy as np

    total = 0.0
    for start in range(0, len(x), 8192):  # bounded memory: rows x centres x features per chunk
        chunk = x[start : start + 8192]
        distances = ((chunk[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        total += float(np.min(distances, axis=1).sum())
    return total


def _clustering(
    x: np.ndarray, labels: np.ndarray, centers: np.ndarray | None, seed: int
) -> dict[str, float | None]:
    import numpy as np
    from sklearn.metrics import silhouette_score

    found = len(np.unique(labels))
    silhouette = None
    if 2 <= found < len(x):
        sample = min(len(x), _SILHOUETTE_SAMPLE)
        silhouette = float(silhouette_score(x, labels, sample_size=sample, random_state=seed))
    return {"silhouette": silhouette, "inertia": inertia(x, centers) if centers is not None else None}


def cluster_sizes(labels: np.ndarray, k: int) -> list[int]:
    """How many rows each cluster holds (index = cluster id)."""
    import numpy as np

    return [int(n) for n in np.bincount(labels.astype(np.int64), minlength=k)]
