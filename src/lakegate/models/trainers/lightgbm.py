"""LightGBM: trained through its scikit-learn API, saved and served as a native Booster.

Training and prediction use one thread (``n_jobs=1`` / ``num_threads=1``): on a small
machine LightGBM's default OpenMP threads cost far more than they give per request, and
one thread keeps training deterministic.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from lakegate.models.trainers._base import BoosterModel, FitJob, FittedModel, Trainer, check_params

if TYPE_CHECKING:
    import numpy as np

    from lakegate.models._tasks import Task

__all__ = ["LightGBMModel", "LightGBMTrainer"]

MODEL_FILE = "model.lgb.txt"
# Core parameters worth tuning that the scikit-learn constructor does not list.
_CORE_PARAMS: Final = frozenset(
    {
        "min_data_in_leaf",
        "feature_fraction",
        "bagging_fraction",
        "bagging_freq",
        "lambda_l1",
        "lambda_l2",
        "max_bin",
        "min_gain_to_split",
        "extra_trees",
        "is_unbalance",
        "scale_pos_weight",
        "num_class",
        "deterministic",
        "verbosity",
        "verbose",
    }
)


class LightGBMModel(BoosterModel):
    format = "lightgbm"

    def __init__(self, task: Task, algorithm: str, booster: Any) -> None:
        super().__init__(task, algorithm, handles_missing=True)
        self.booster = booster
        self._multiclass = task == "classification" and int(booster.num_model_per_iteration()) > 1

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The booster's own output: P(class 1), class probabilities, or values."""
        result: np.ndarray = self.booster.predict(x, num_threads=1)
        return result

    def save(self, folder: Path) -> list[str]:
        self.booster.save_model(str(folder / MODEL_FILE))
        return [MODEL_FILE]

    @classmethod
    def load(cls, folder: Path, *, task: Task, algorithm: str) -> LightGBMModel:
        import lightgbm

        return cls(task, algorithm, lightgbm.Booster(model_file=str(folder / MODEL_FILE)))


class LightGBMTrainer(Trainer):
    def _estimator_class(self) -> type:
        import lightgbm

        cls: type = getattr(lightgbm, self.algorithm.rpartition(".")[2])
        return cls

    def check_params(self, params: dict[str, Any]) -> None:
        accepted = set(self._estimator_class()().get_params()) | _CORE_PARAMS
        check_params(self.algorithm, params, accepted)

    def _fit(self, job: FitJob) -> FittedModel:
        options: dict[str, Any] = {"n_jobs": 1, "random_state": job.seed, "verbose": -1, **job.params}
        estimator = self._estimator_class()(**options)
        estimator.fit(job.x, job.y, feature_name=list(job.feature_names))
        return LightGBMModel(job.task, self.algorithm, estimator.booster_)
