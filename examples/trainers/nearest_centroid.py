"""An example of your own trainer for lakegate: a nearest-centroid classifier in numpy.

Use it from a pipeline in lakegate.yaml (the module must be importable, e.g. on PYTHONPATH):

    model:
      task: classification
      algorithm: "nearest_centroid:NearestCentroid"
      params: {shrink: 0.0}

lakegate gives ``fit`` a float64 matrix (features in the manifest's order, NaN for missing)
and, for classification, class codes 0..k-1; it stores what ``save`` writes (JSON here, never
a pickle) in the model's artifact, hashed and verified before ``load`` is called.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

MODEL_FILE = "centroids.json"


class NearestCentroid:
    tasks = ("classification",)
    handles_missing = False

    def __init__(self, shrink: float = 0.0) -> None:
        self.shrink = float(shrink)
        self.centroids: np.ndarray | None = None

    def fit(self, x: np.ndarray, y: np.ndarray | None, *, task: str, seed: int) -> None:
        assert y is not None
        overall = x.mean(axis=0)
        classes = np.unique(y)
        self.centroids = np.vstack(
            [(1 - self.shrink) * x[y == c].mean(axis=0) + self.shrink * overall for c in classes]
        )

    def _distances(self, x: np.ndarray) -> np.ndarray:
        assert self.centroids is not None
        return np.linalg.norm(x[:, None, :] - self.centroids[None, :, :], axis=2)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.argmin(self._distances(x), axis=1)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        weights = np.exp(-self._distances(x))
        return weights / weights.sum(axis=1, keepdims=True)

    def save(self, folder: Path) -> list[str]:
        assert self.centroids is not None
        data = {"shrink": self.shrink, "centroids": self.centroids.tolist()}
        (folder / MODEL_FILE).write_text(json.dumps(data), encoding="utf-8")
        return [MODEL_FILE]

    @classmethod
    def load(cls, folder: Path) -> NearestCentroid:
        data = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
        model = cls(shrink=data["shrink"])
        model.centroids = np.asarray(data["centroids"], dtype=np.float64)
        return model
