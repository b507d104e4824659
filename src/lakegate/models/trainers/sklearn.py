"""scikit-learn estimators from the allow-list, saved with skops (never pickle).

Loading checks every type skops would need to trust against :data:`TRUSTED_TYPES` (the
internals of the allow-listed estimators) and refuses anything else, then checks the
loaded object is exactly the class the manifest names.
"""

from __future__ import annotations

import copy
import inspect
import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from lakegate._resolve import resolve
from lakegate.errors import ModelError
from lakegate.models.trainers._base import FitJob, FittedModel, Trainer, check_params

if TYPE_CHECKING:
    import numpy as np

    from lakegate.models._tasks import Task

__all__ = ["TRUSTED_TYPES", "SklearnModel", "SklearnTrainer", "normalize_zip"]

MODEL_FILE = "model.skops"

# Types inside allow-listed estimators that skops does not trust by default.
TRUSTED_TYPES: Final[frozenset[str]] = frozenset(
    {
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neighbors._ball_tree.BallTree",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.metrics._dist_metrics.ManhattanDistance64",
        "sklearn.metrics._dist_metrics.MinkowskiDistance64",
        "sklearn.metrics._dist_metrics.ChebyshevDistance64",
    }
)
_HANDLES_MISSING: Final = frozenset({"HistGradientBoostingClassifier", "HistGradientBoostingRegressor"})
# Estimators whose n_jobs matters (elsewhere the parameter is deprecated or a no-op).
_PARALLEL: Final = frozenset(
    {
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
        "KNeighborsClassifier",
        "KNeighborsRegressor",
    }
)
# Zip entries get this timestamp so the same model always yields the same bytes (and hash).
_EPOCH: Final = (1980, 1, 1, 0, 0, 0)


def _estimator_class(algorithm: str) -> type:
    cls: type = resolve(algorithm)
    return cls


class SklearnModel(FittedModel):
    format = "skops"

    def __init__(self, task: Task, algorithm: str, estimator: Any) -> None:
        name = type(estimator).__name__
        super().__init__(task, algorithm, handles_missing=name in _HANDLES_MISSING)
        self._estimator = estimator

    @property
    def estimator(self) -> Any:
        return self._estimator

    def predict_values(self, x: np.ndarray) -> np.ndarray:
        result: np.ndarray = self._estimator.predict(x)
        return result

    def predict_proba(self, x: np.ndarray) -> np.ndarray | None:
        if self.task != "classification" or not hasattr(self._estimator, "predict_proba"):
            return None
        result: np.ndarray = self._estimator.predict_proba(x)
        return result

    def cluster_centers(self) -> np.ndarray | None:
        centers: np.ndarray | None = getattr(self._estimator, "cluster_centers_", None)
        return centers

    def save(self, folder: Path) -> list[str]:
        import skops.io as sio  # type: ignore[import-untyped]

        (folder / MODEL_FILE).write_bytes(normalize_zip(sio.dumps(self._estimator)))
        return [MODEL_FILE]

    @classmethod
    def load(cls, folder: Path, *, task: Task, algorithm: str) -> SklearnModel:
        import skops.io as sio

        path = folder / MODEL_FILE
        data = path.read_bytes()
        try:
            untrusted = sio.get_untrusted_types(data=data)
        except Exception as exc:
            raise ModelError(f"{path}: not a skops model file ({type(exc).__name__})") from exc
        refused = sorted(set(untrusted) - TRUSTED_TYPES)
        if refused:
            raise ModelError(
                f"{path}: refusing to load untrusted types: {', '.join(refused)}",
                detail={"untrusted": refused},
            )
        try:
            estimator = sio.loads(data, trusted=list(untrusted))
        except Exception as exc:
            raise ModelError(f"{path}: cannot load: {exc}") from exc
        expected = _estimator_class(algorithm)
        if type(estimator) is not expected:
            raise ModelError(f"{path}: holds a {type(estimator).__name__}, the manifest says {algorithm}")
        return cls(task, algorithm, estimator)


def normalize_zip(data: bytes) -> bytes:
    """Rewrite a skops zip so the same model always gives the same bytes (and artifact hash).

    skops names arrays and memo entries after ``id()`` of the objects at save time and
    stamps zip entries with the clock; ids are renumbered in document order and entries
    get a fixed timestamp and order.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    renumbered: dict[int, int] = {}
    renamed: dict[str, str] = {}
    schema = None
    if "schema.json" in names:
        schema = json.loads(source.read("schema.json"))
        _renumber(schema, renumbered, renamed)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        entries = sorted((renamed.get(name, name), name) for name in names)
        for new_name, old_name in entries:
            info = zipfile.ZipInfo(new_name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            payload = source.read(old_name)
            if old_name == "schema.json" and schema is not None:
                payload = json.dumps(schema, indent=2, sort_keys=True).encode()
            target.writestr(info, payload)
    return out.getvalue()


def _renumber(node: Any, ids: dict[int, int], files: dict[str, str]) -> None:
    if isinstance(node, list):
        for item in node:
            _renumber(item, ids, files)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("__id__"), int):
        node["__id__"] = ids.setdefault(node["__id__"], len(ids) + 1)
    stored = node.get("file")
    if isinstance(stored, str) and stored.endswith(".npy") and stored[:-4].isdigit():
        number = ids.setdefault(int(stored[:-4]), len(ids) + 1)
        files[stored] = node["file"] = f"{number}.npy"
    for key in sorted(node):
        _renumber(node[key], ids, files)


class SklearnTrainer(Trainer):
    def _accepted(self) -> set[str]:
        return set(inspect.signature(_estimator_class(self.algorithm)).parameters)

    def check_params(self, params: dict[str, Any]) -> None:
        check_params(self.algorithm, params, self._accepted())

    def _fit(self, job: FitJob) -> FittedModel:
        accepted = self._accepted()
        options = dict(job.params)
        if "random_state" in accepted:
            options.setdefault("random_state", job.seed)
        if self.algorithm.rpartition(".")[2] in _PARALLEL:
            options.setdefault("n_jobs", 1)
        if job.previous is not None:
            return SklearnModel(job.task, self.algorithm, _continue(job.previous, job.x, job.seed))
        estimator = _estimator_class(self.algorithm)(**options)
        if job.y is None:
            estimator.fit(job.x)
        else:
            estimator.fit(job.x, job.y)
        return SklearnModel(job.task, self.algorithm, estimator)


def _continue(previous: FittedModel, x: np.ndarray, seed: int) -> Any:
    """MiniBatchKMeans warm start: copy the previous model and ``partial_fit`` the new rows."""
    import numpy as np

    estimator = copy.deepcopy(previous.estimator)
    batch = int(getattr(estimator, "batch_size", 1024))
    order = np.random.default_rng(seed).permutation(len(x))
    for start in range(0, len(x), batch):
        estimator.partial_fit(x[order[start : start + batch]])
    return estimator
