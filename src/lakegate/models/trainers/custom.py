"""Bring your own trainer: ``model.algorithm: "package.module:Class"``.

The class implements the trainer protocol below; lakegate wraps it like its own trainers,
so the artifact is hashed, listed in the manifest and verified before any load, exactly as
for LightGBM or skops files. lakegate never unpickles: files that are pickles are refused
when saved and when loaded (save JSON, ONNX, skops or the library's native format). The
class itself is code named in ``lakegate.yaml``, trusted like a ``custom`` feature step.

    class MeanClassifier:                      # see docs/pipelines.md "Your own trainer"
        tasks = ("classification",)            # optional: the tasks it supports
        handles_missing = False                # optional: True if predict copes with NaN

        def __init__(self, **params): ...      # model.params
        def fit(self, x, y, *, task, seed): ...  # x float64 (n, features); y class codes 0..k-1
        def predict(self, x): ...              # class codes / values / cluster ids
        def predict_proba(self, x): ...        # optional: (n, k) class probabilities
        def save(self, folder) -> list[str]:   # file names written into folder
        @classmethod
        def load(cls, folder): ...             # the files save wrote (hash already verified)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakegate._resolve import resolve
from lakegate.errors import ConfigError, ModelError
from lakegate.models.trainers._base import FitJob, FittedModel, Trainer

if TYPE_CHECKING:
    import numpy as np

    from lakegate.models._tasks import Task

__all__ = ["CustomModel", "CustomTrainer", "code_version", "is_custom", "trainer_class"]

_DOTTED = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_REQUIRED = ("fit", "predict", "save", "load")
# Pickle streams start with PROTO (0x80) and a protocol number 2..5.
_PICKLE = tuple(bytes([0x80, n]) for n in range(2, 6))


def is_custom(algorithm: str) -> bool:
    """``package.module:Class``: a trainer brought by the project (not an allow-listed name)."""
    return ":" in algorithm


def check_name(algorithm: str, task: Task) -> str:
    if not _DOTTED.match(algorithm):
        raise ConfigError(
            f"model.algorithm: {algorithm!r} is not a class path; write package.module:Class",
            detail={"field": "model.algorithm"},
        )
    return algorithm


def trainer_class(algorithm: str, task: Task | None = None) -> Any:
    """Import the class and check it implements the protocol (``ConfigError`` naming what lacks)."""
    try:
        cls = resolve(algorithm)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"model.algorithm: cannot import {algorithm!r} ({exc})", detail={"field": "model.algorithm"}
        ) from exc
    if not isinstance(cls, type):
        raise ConfigError(f"model.algorithm: {algorithm} is not a class", detail={"field": "model.algorithm"})
    missing = [name for name in _REQUIRED if not callable(getattr(cls, name, None))]
    if missing:
        raise ConfigError(
            f"model.algorithm: {algorithm} lacks {', '.join(missing)} (a trainer implements "
            "fit, predict, save and load)",
            detail={"field": "model.algorithm", "missing": missing},
        )
    tasks = getattr(cls, "tasks", None)
    if task is not None and tasks is not None and task not in tasks:
        raise ConfigError(
            f"model.algorithm: {algorithm} trains {', '.join(tasks)}, but model.task is {task}",
            detail={"field": "model.algorithm"},
        )
    return cls


def code_version(algorithm: str) -> str:
    """The sha256 of the trainer's module file (part of the model's cache key)."""
    import hashlib
    import inspect

    module = inspect.getmodule(trainer_class(algorithm))
    source = getattr(module, "__file__", None)
    if source and Path(source).is_file():
        return hashlib.sha256(Path(source).read_bytes()).hexdigest()
    return algorithm


def _refuse_pickles(folder: Path, names: list[str], algorithm: str) -> None:
    for name in names:
        path = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts or not path.is_file():
            raise ModelError(
                f"{algorithm}: save() must return names of files it wrote in the folder: {name!r}"
            )
        with path.open("rb") as handle:
            if handle.read(2) in _PICKLE:
                raise ModelError(
                    f"{algorithm}: {name} is a pickle; lakegate never unpickles a model "
                    "(save JSON, ONNX, skops or the library's own format)",
                    detail={"file": name},
                )


class CustomModel(FittedModel):
    format = "custom"

    def __init__(self, task: Task, algorithm: str, instance: Any) -> None:
        super().__init__(task, algorithm, handles_missing=bool(getattr(instance, "handles_missing", False)))
        self._instance = instance

    @property
    def estimator(self) -> Any:
        return self._instance

    def predict_values(self, x: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.asarray(self._instance.predict(x))

    def predict_proba(self, x: np.ndarray) -> np.ndarray | None:
        import numpy as np

        if self.task != "classification" or not callable(getattr(self._instance, "predict_proba", None)):
            return None
        return np.asarray(self._instance.predict_proba(x), dtype=np.float64)

    def save(self, folder: Path) -> list[str]:
        names = [str(name) for name in self._instance.save(folder)]
        _refuse_pickles(folder, names, self.algorithm)
        return names

    @classmethod
    def load(cls, folder: Path, *, task: Task, algorithm: str) -> CustomModel:
        from lakegate.models._manifest import MANIFEST_FILE, STEPS_FILE

        names = [
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and p.name not in {MANIFEST_FILE, STEPS_FILE}
        ]
        _refuse_pickles(folder, names, algorithm)
        try:
            instance = trainer_class(algorithm, task).load(folder)
        except ConfigError as exc:
            raise ModelError(f"{folder}: {exc.message}") from exc
        return cls(task, algorithm, instance)


class CustomTrainer(Trainer):
    def check_params(self, params: dict[str, Any]) -> None:
        cls = trainer_class(self.algorithm)
        try:
            cls(**params)
        except TypeError as exc:
            raise ConfigError(
                f"model.params: {self.algorithm} does not take these parameters ({exc})",
                detail={"field": "model.params"},
            ) from exc

    def _fit(self, job: FitJob) -> FittedModel:
        cls = trainer_class(self.algorithm, job.task)
        instance = cls(**job.params)
        instance.fit(job.x, job.y, task=job.task, seed=job.seed)
        return CustomModel(job.task, self.algorithm, instance)
