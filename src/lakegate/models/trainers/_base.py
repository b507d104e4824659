"""What a trainer and a fitted model implement.

Models see a float64 numpy matrix (features in manifest order, NaN for missing) and,
for classification, integer class codes ``0..k-1`` (the labels live in the manifest).
A fitted model saves itself in its native format (LightGBM text, XGBoost UBJSON, skops
for scikit-learn) and never through pickle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from lakegate.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

    from lakegate.models._tasks import Task

__all__ = ["BoosterModel", "FitJob", "FittedModel", "Trainer", "check_params"]


class FittedModel(ABC):
    """A trained estimator behind one small interface."""

    format: ClassVar[str]

    def __init__(self, task: Task, algorithm: str, *, handles_missing: bool) -> None:
        self.task = task
        self.algorithm = algorithm
        self.handles_missing = handles_missing

    @abstractmethod
    def predict_values(self, x: np.ndarray) -> np.ndarray:
        """Class codes (classification), values (regression) or cluster ids (clustering)."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray | None:
        """Class probabilities ``(n, k)`` for classifiers, else ``None``."""
        return None

    def proba_rows(self, x: np.ndarray) -> list[list[float]]:
        """Class probabilities as Python lists (the predictor's JSON path)."""
        proba = self.predict_proba(x)
        if proba is None:
            raise TypeError(f"{self.algorithm} gives no class probabilities")
        rows: list[list[float]] = proba.tolist()
        return rows

    def cluster_centers(self) -> np.ndarray | None:
        return None

    @property
    def estimator(self) -> Any:
        """The underlying library object (for warm starts and inspection)."""
        return None

    @abstractmethod
    def save(self, folder: Path) -> list[str]:
        """Write the model files into ``folder``; return their names."""

    @classmethod
    @abstractmethod
    def load(cls, folder: Path, *, task: Task, algorithm: str) -> FittedModel:
        """Load files written by :meth:`save` (the caller verified their hash)."""


class BoosterModel(FittedModel):
    """A gradient-boosting booster (LightGBM, XGBoost) served from its native format.

    Subclasses set ``booster`` and ``_multiclass`` and implement :meth:`raw`: the booster's
    own output, P(class 1) for binary classifiers and class probabilities for multiclass.
    """

    booster: Any
    _multiclass: bool

    @property
    def estimator(self) -> Any:
        return self.booster

    @abstractmethod
    def raw(self, x: np.ndarray) -> np.ndarray:
        """The booster's own output: P(class 1), class probabilities, or values."""

    def predict_values(self, x: np.ndarray) -> np.ndarray:
        import numpy as np

        out = self.raw(x)
        if self.task != "classification":
            return out
        return np.argmax(out, axis=1) if self._multiclass else (out > 0.5).astype(np.int64)

    def predict_proba(self, x: np.ndarray) -> np.ndarray | None:
        import numpy as np

        if self.task != "classification":
            return None
        out = self.raw(x)
        return out if self._multiclass else np.column_stack([1.0 - out, out])

    def proba_rows(self, x: np.ndarray) -> list[list[float]]:
        if self.task != "classification" or self._multiclass:
            return super().proba_rows(x)
        # Binary: the booster gives P(class 1); skip numpy stacking for one-row requests.
        return [[1.0 - p, p] for p in self.raw(x).tolist()]


@dataclass(frozen=True, slots=True)
class FitJob:
    """What :meth:`Trainer.fit` was asked to train (``params`` already checked)."""

    x: np.ndarray
    y: np.ndarray | None
    task: Task
    params: dict[str, Any]
    seed: int
    feature_names: list[str]
    previous: FittedModel | None = None


class Trainer(ABC):
    """Fits one allow-listed algorithm (its canonical dotted name).

    Subclasses implement :meth:`check_params` and :meth:`_fit`; :meth:`fit` is the one entry
    point, and checks the parameters before any training starts.
    """

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm

    @abstractmethod
    def check_params(self, params: dict[str, Any]) -> None:
        """Raise ``ConfigError`` for a parameter the estimator does not take."""

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray | None,
        *,
        task: Task,
        params: dict[str, Any],
        seed: int,
        feature_names: list[str],
        previous: FittedModel | None = None,
    ) -> FittedModel:
        """Train; ``previous`` is a model to continue from (clustering warm start)."""
        self.check_params(params)
        return self._fit(FitJob(x, y, task, params, seed, feature_names, previous))

    @abstractmethod
    def _fit(self, job: FitJob) -> FittedModel:
        """Train on ``job`` (its parameters passed :meth:`check_params`)."""


def check_params(algorithm: str, params: dict[str, Any], accepted: set[str]) -> None:
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ConfigError(
            f"model.params: {algorithm} takes no parameter {', '.join(repr(u) for u in unknown)} "
            f"(accepted: {', '.join(sorted(accepted))})",
            detail={"field": "model.params", "unknown": unknown},
        )
