"""XGBoost (optional extra ``lakegate[xgboost]``): saved and served as a native Booster (UBJSON)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from lakegate._optional import require
from lakegate.models.trainers._base import BoosterModel, FitJob, FittedModel, Trainer, check_params

if TYPE_CHECKING:
    import numpy as np

    from lakegate.models._tasks import Task

__all__ = ["XGBoostModel", "XGBoostTrainer"]

MODEL_FILE = "model.xgb.ubj"


def _xgboost() -> ModuleType:
    return require("xgboost", extra="xgboost", feature="XGBoost models")


class XGBoostModel(BoosterModel):
    format = "xgboost"

    def __init__(self, task: Task, algorithm: str, booster: Any, n_classes: int) -> None:
        super().__init__(task, algorithm, handles_missing=True)
        self.booster = booster
        booster.set_param({"nthread": 1})
        self._multiclass = task == "classification" and n_classes > 2

    def raw(self, x: np.ndarray) -> np.ndarray:
        result: np.ndarray = self.booster.inplace_predict(x)
        return result

    def save(self, folder: Path) -> list[str]:
        self.booster.save_model(str(folder / MODEL_FILE))
        return [MODEL_FILE]

    @classmethod
    def load(cls, folder: Path, *, task: Task, algorithm: str) -> XGBoostModel:
        xgb = _xgboost()
        booster = xgb.Booster()
        booster.load_model(str(folder / MODEL_FILE))
        n_classes = int(booster.attr("lakegate_n_classes") or 2)
        return cls(task, algorithm, booster, n_classes)


class XGBoostTrainer(Trainer):
    def _estimator_class(self) -> type:
        cls: type = getattr(_xgboost(), self.algorithm.rpartition(".")[2])
        return cls

    def check_params(self, params: dict[str, Any]) -> None:
        check_params(self.algorithm, params, set(self._estimator_class()().get_params()))

    def _fit(self, job: FitJob) -> FittedModel:
        import numpy as np

        options: dict[str, Any] = {"n_jobs": 1, "random_state": job.seed, **job.params}
        estimator = self._estimator_class()(**options)
        estimator.fit(job.x, job.y)
        booster = estimator.get_booster()
        booster.feature_names = list(job.feature_names)
        n_classes = len(np.unique(job.y)) if job.task == "classification" and job.y is not None else 0
        booster.set_attr(lakegate_n_classes=str(n_classes))
        return XGBoostModel(job.task, self.algorithm, booster, n_classes)
