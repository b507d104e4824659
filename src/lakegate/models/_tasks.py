"""Tasks and the metrics each one reports."""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["LOWER_IS_BETTER", "METRICS", "TASKS", "Task", "higher_is_better"]

Task = Literal["classification", "regression", "clustering"]
TASKS: Final[tuple[Task, ...]] = ("classification", "regression", "clustering")

METRICS: Final[dict[str, tuple[str, ...]]] = {
    "classification": ("accuracy", "f1", "precision", "recall", "roc_auc"),
    "regression": ("rmse", "mae", "r2"),
    "clustering": ("silhouette", "inertia"),
}
LOWER_IS_BETTER: Final = frozenset({"rmse", "mae", "inertia"})


def higher_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER
