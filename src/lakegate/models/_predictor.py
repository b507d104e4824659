"""The Predictor: validated inputs -> stored feature steps -> model -> decoded predictions.

Two paths give the same numbers (tested):

- records (a dict or a few dicts) whose steps are all row-wise go through plain Python
  and one numpy row per record straight into the booster: no polars per request, which
  is what keeps the online route fast;
- frames, many records, or steps that change the grain (aggregate, custom) go through
  polars.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from lakegate.errors import InputError
from lakegate.models._artifacts import TrainedModel, read_artifact
from lakegate.models._inputs import check_frame, coerce_row, polars_type, raise_problems

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

__all__ = ["PredictionResult", "Predictor", "load_model", "write_predictions"]

# Up to this many records take the pure-Python path; more are cheaper through polars.
FAST_PATH_ROWS: Final = 64


@dataclass(frozen=True)
class PredictionResult:
    """Predictions in input order; class probabilities (label -> p) for classifiers."""

    predictions: list[Any]
    probabilities: list[dict[str, float]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"predictions": self.predictions}
        if self.probabilities is not None:
            out["probabilities"] = self.probabilities
        return out


class Predictor:
    """A loaded, verified model ready to predict (build it with :func:`load_model`)."""

    def __init__(self, trained: TrainedModel, sha256: str) -> None:
        self.sha256 = sha256
        self.manifest = trained.manifest
        self.model = trained.model
        self.steps = trained.steps
        self._schema = list(self.manifest.input_schema)
        self._features = [f.name for f in self.manifest.features]
        self._classes = list(self.manifest.classes or [])
        self._labels = [str(c) for c in self._classes]

    @property
    def input_columns(self) -> list[str]:
        return [c.name for c in self._schema]

    @property
    def feature_names(self) -> list[str]:
        return list(self._features)

    def predict(
        self, data: Mapping[str, Any] | Sequence[Mapping[str, Any]] | pl.DataFrame | pl.LazyFrame
    ) -> PredictionResult:
        """Predict for one record, a list of records, or a polars frame.

        Raises ``InputError`` whose ``detail`` lists every bad field and why.
        """
        import polars as pl

        if isinstance(data, Mapping):
            return self._decode(self._matrix_from_records([data]))
        if isinstance(data, pl.DataFrame | pl.LazyFrame):
            return self._decode(self._matrix_from_frame(data)[0])
        if not isinstance(data, list | tuple) or not all(isinstance(item, Mapping) for item in data):
            raise InputError("expected a JSON object or a list of objects", detail=[])
        if not data:
            return PredictionResult([], [] if self._classes else None)
        return self._decode(self._matrix_from_records(data))

    def predict_frame(
        self, frame: pl.DataFrame | pl.LazyFrame, *, keep: Sequence[str] | None = None
    ) -> pl.DataFrame:
        """Batch scoring: ``keep`` columns (default: the model's id columns) + predictions.

        Columns: ``prediction``, and ``proba_<label>`` per class for classifiers.
        """
        import polars as pl

        x, transformed = self._matrix_from_frame(frame)
        result = self._decode(x)
        wanted = list(self.manifest.id_columns if keep is None else keep)
        kept = transformed.select([c for c in wanted if c in transformed.columns])
        columns: dict[str, Any] = {"prediction": result.predictions}
        if result.probabilities is not None:
            for label in self._labels:
                columns[f"proba_{label}"] = [p[label] for p in result.probabilities]
        return pl.concat([kept, pl.DataFrame(columns)], how="horizontal")

    # -- inputs -> feature matrix -------------------------------------------------------

    def _matrix_from_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        import numpy as np

        problems: list[dict[str, Any]] = []
        single = len(records) == 1
        rows = [coerce_row(r, self._schema, None if single else i, problems) for i, r in enumerate(records)]
        raise_problems(problems)
        if not (self.steps.row_wise and len(rows) <= FAST_PATH_ROWS):
            import polars as pl

            schema = {c.name: polars_type(c.kind) for c in self._schema}
            frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
            return self._matrix_from_frame(frame)[0]
        features = self._features
        values = [[t.get(name) for name in features] for t in map(self.steps.transform_row, rows)]
        try:
            # numpy turns None into NaN and booleans into 0/1; text raises and is explained below.
            x = np.array(values, dtype=np.float64)
        except (TypeError, ValueError):
            for row_values in values:
                for name, value in zip(features, row_values, strict=True):
                    _number(value, name)
            raise
        self._check_missing(x)
        return x

    def _matrix_from_frame(self, frame: pl.DataFrame | pl.LazyFrame) -> tuple[np.ndarray, pl.DataFrame]:
        import numpy as np
        import polars as pl

        lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
        lazy = check_frame(lazy, self._schema)
        target = self.manifest.target
        if target is not None and target not in lazy.collect_schema():
            # Steps written for training may name the target (select, cast): give them a null one.
            lazy = lazy.with_columns(pl.lit(None).alias(target))
        try:
            transformed = self.steps.transform(lazy).collect()
        except pl.exceptions.PolarsError as exc:
            raise InputError(f"the feature steps failed on this input: {exc}", detail=[]) from exc
        missing = [f for f in self._features if f not in transformed.columns]
        if missing:
            raise InputError(
                f"the feature steps did not produce: {', '.join(missing)}",
                detail=[{"field": f, "reason": "not produced by the feature steps"} for f in missing],
            )
        x = transformed.select([pl.col(f).cast(pl.Float64) for f in self._features]).to_numpy()
        x = np.ascontiguousarray(x, dtype=np.float64)
        self._check_missing(x)
        return x, transformed

    def _check_missing(self, x: np.ndarray) -> None:
        import numpy as np

        if self.model.handles_missing or not x.size:
            return
        holes = np.isnan(x)
        if holes.any():
            rows, columns = np.nonzero(holes)
            problems = [
                {"field": self._features[c], "reason": "missing value (this model needs one)", "row": int(r)}
                for r, c in zip(rows[:20], columns[:20], strict=True)
            ]
            raise_problems(problems)

    # -- model output -> JSON-able values ------------------------------------------------

    def _decode(self, x: np.ndarray) -> PredictionResult:
        if self.manifest.task != "classification":
            values = self.model.predict_values(x)
            cast = int if self.manifest.task == "clustering" else float
            return PredictionResult([cast(v) for v in values.tolist()])
        rows = self.model.proba_rows(x)
        labels, classes = self._labels, self._classes
        best = [max(range(len(row)), key=row.__getitem__) for row in rows]
        return PredictionResult(
            [classes[i] for i in best],
            [dict(zip(labels, row, strict=True)) for row in rows],
        )


def _number(value: Any, name: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool | int | float):
        return float(value)
    raise InputError(
        f"{name}: feature is {type(value).__name__}, not a number (encode it with one_hot or ordinal)",
        detail=[{"field": name, "reason": "not a number after the feature steps"}],
    )


def load_model(folder: Path, expected_sha256: str) -> Predictor:
    """Verify ``folder`` against ``expected_sha256`` and load it as a :class:`Predictor`.

    Raises ``ModelError`` on a hash mismatch, an unexpected file, an untrusted skops type
    or an algorithm outside the allow-list; nothing is loaded before the hash matches.
    """
    trained = read_artifact(folder, expected_sha256)
    return Predictor(trained, expected_sha256.lower())


def write_predictions(
    predictor: Predictor, frame: pl.DataFrame | pl.LazyFrame, path: Path, *, keep: Sequence[str] | None = None
) -> int:
    """Batch-score ``frame`` into a Parquet file at ``path`` (atomically); return the row count."""
    import io

    from lakegate._atomic import write_bytes_atomic

    scored = predictor.predict_frame(frame, keep=keep)
    buffer = io.BytesIO()
    scored.write_parquet(buffer)
    write_bytes_atomic(path, buffer.getvalue())
    return scored.height
