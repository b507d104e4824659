"""The MLflow ``python_function`` loader of an exported lakegate model.

This file is copied as ``code/lakegate_mlflow.py`` into every MLflow model lakegate
exports; MLflow puts ``code/`` on ``sys.path`` and calls :func:`_load_pyfunc` with the
model's ``data/`` folder. Predictions go through lakegate's own :class:`Predictor`, which
verifies the model folder's sha256 before loading it (nothing is unpickled), so
``mlflow.pyfunc.load_model(dir).predict(frame)`` gives lakegate's numbers.
It needs only lakegate (and pandas, which MLflow itself needs) installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["LakegatePyfunc", "_load_pyfunc"]

MODEL_FOLDER = "model"
META_FILE = "lakegate.json"


class LakegatePyfunc:
    """What MLflow's pyfunc wrapper calls: ``predict(pandas frame) -> pandas frame``."""

    def __init__(self, data_path: str | Path) -> None:
        from lakegate.models import load_model

        folder = Path(data_path)
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        self.meta = meta
        self.predictor = load_model(folder / MODEL_FOLDER, meta["sha256"])

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        """Score a pandas (or polars) frame: ``prediction`` plus ``proba_<label>`` per class."""
        import polars as pl

        frame = model_input if isinstance(model_input, pl.DataFrame) else pl.from_pandas(model_input)
        return self.predictor.predict_frame(frame, keep=[]).to_pandas()


def _load_pyfunc(data_path: str) -> LakegatePyfunc:
    return LakegatePyfunc(data_path)
