"""From the final feature frame to a saved model: features, split, fit, evaluate, robustness.

Everything is seeded (the split, the estimator, the perturbations), so the same inputs
and spec give the same model files and the same artifact hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakegate.errors import PipelineError
from lakegate.features import FeaturePipeline
from lakegate.models import (
    ColumnSpec,
    FeatureGroups,
    FittedModel,
    Predictor,
    TrainingInfo,
    assess_robustness,
    cluster_sizes,
    evaluate,
)
from lakegate.pipelines._spec import PipelineSpec

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

__all__ = ["Prepared", "fit_model", "input_schema", "kind_of", "prepare"]


def kind_of(dtype: pl.DataType) -> str:
    """The input kind a polars type is checked as (``int``, ``float``, ``str``, ...)."""
    import polars as pl

    if dtype.is_integer():
        return "int"
    if dtype.is_numeric():
        return "float"
    if dtype == pl.Boolean:
        return "bool"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "str"
    if dtype == pl.Date:
        return "date"
    return "datetime" if isinstance(dtype, pl.Datetime) else "other"


def _column(name: str, dtype: pl.DataType, *, required: bool = True) -> ColumnSpec:
    return ColumnSpec(name=name, dtype=str(dtype), kind=kind_of(dtype), required=required)


@dataclass
class Prepared:
    """The model's view of the data: matrices, labels and the split."""

    features: list[ColumnSpec]
    ignored: list[str]
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray | None
    y_test: np.ndarray | None
    classes: list[Any] | None
    dropped_rows: int


def _choose_features(spec: PipelineSpec, schema: pl.Schema) -> tuple[list[ColumnSpec], list[str]]:
    skip = {spec.target, *spec.model_spec.exclude, *spec.id_columns}
    if spec.model_spec.features is not None:
        missing = [f for f in spec.model_spec.features if f not in schema]
        bad = [f for f in spec.model_spec.features if f in schema and not _numeric(schema[f])]
        if missing or bad:
            raise PipelineError(
                f"pipeline {spec.name}: model.features: "
                + "; ".join(
                    [*(f"no column {m!r}" for m in missing), *(f"{b!r} is not numeric" for b in bad)]
                ),
                detail={"pipeline": spec.name, "missing": missing, "not_numeric": bad},
            )
        return [_column(f, schema[f]) for f in spec.model_spec.features], []
    chosen = [_column(n, t) for n, t in schema.items() if n not in skip and _numeric(t)]
    ignored = [n for n, t in schema.items() if n not in skip and not _numeric(t)]
    if not chosen:
        raise PipelineError(
            f"pipeline {spec.name}: no numeric feature columns after the steps "
            f"(encode text with one_hot/ordinal; columns: {', '.join(schema)})",
            detail={"pipeline": spec.name, "columns": list(schema)},
        )
    return chosen, ignored


def _numeric(dtype: pl.DataType) -> bool:
    import polars as pl

    return dtype.is_numeric() or dtype == pl.Boolean


def prepare(spec: PipelineSpec, frame: pl.DataFrame) -> Prepared:
    """Pick features, encode labels and split ``frame`` as the spec says."""
    import numpy as np
    import polars as pl

    features, ignored = _choose_features(spec, frame.schema)
    dropped = 0
    if spec.target is not None:
        if spec.target not in frame.columns:
            raise PipelineError(
                f"pipeline {spec.name}: target {spec.target!r} is not a column after the steps",
                detail={"pipeline": spec.name, "columns": frame.columns},
            )
        before = frame.height
        frame = frame.filter(pl.col(spec.target).is_not_null())
        dropped = before - frame.height
    if frame.height < 4:
        raise PipelineError(f"pipeline {spec.name}: only {frame.height} usable rows; need at least 4")
    x = np.ascontiguousarray(
        frame.select([pl.col(f.name).cast(pl.Float64) for f in features]).to_numpy(), dtype=np.float64
    )
    y, classes = _labels(spec, frame)
    train, test = _split(spec, frame, y)
    return Prepared(
        features=features,
        ignored=ignored,
        x_train=np.ascontiguousarray(x[train]),
        x_test=np.ascontiguousarray(x[test]),
        y_train=None if y is None else y[train],
        y_test=None if y is None else y[test],
        classes=classes,
        dropped_rows=dropped,
    )


def _labels(spec: PipelineSpec, frame: pl.DataFrame) -> tuple[np.ndarray | None, list[Any] | None]:
    import numpy as np

    if spec.target is None or spec.model_spec.task == "clustering":
        return None, None
    series = frame.get_column(spec.target)
    if spec.model_spec.task == "regression":
        if not series.dtype.is_numeric():
            raise PipelineError(f"pipeline {spec.name}: regression target {spec.target!r} is {series.dtype}")
        return series.cast(float).to_numpy(), None
    classes = sorted(series.unique().to_list(), key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise PipelineError(f"pipeline {spec.name}: target {spec.target!r} has a single class {classes}")
    positive = spec.model_spec.positive_class
    if positive is not None:
        match = [c for c in classes if c == positive or str(c) == str(positive)]
        if not match:
            raise PipelineError(f"pipeline {spec.name}: positive_class {positive!r} not among {classes}")
        if len(classes) == 2:  # the positive class is code 1, which f1/precision/recall score
            classes = [c for c in classes if c != match[0]] + match
    codes = {value: index for index, value in enumerate(classes)}
    return np.asarray([codes[v] for v in series.to_list()], dtype=np.int64), classes


def _split(spec: PipelineSpec, frame: pl.DataFrame, y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np
    import polars as pl

    split, n = spec.split, frame.height
    if split.method == "time":
        column = split.column or ""
        if column not in frame.columns:
            raise PipelineError(
                f"pipeline {spec.name}: split.column {column!r} is not a column after the steps"
            )
        times = frame.get_column(column)
        cutoff = split.cutoff if split.cutoff is not None else times.sort()[int(n * (1 - split.test_size))]
        is_test = frame.select((pl.col(column) >= pl.lit(cutoff)).fill_null(False)).to_series().to_numpy()
        test, train = np.flatnonzero(is_test), np.flatnonzero(~is_test)
    else:
        rng = np.random.default_rng(spec.seed if split.seed is None else split.seed)
        if y is not None and spec.model_spec.task == "classification" and split.stratify:
            picks = []
            for code in np.unique(y):
                members = rng.permutation(np.flatnonzero(y == code))
                take = round(len(members) * split.test_size) if len(members) > 1 else 0
                picks.append(members[: max(take, 1 if len(members) > 1 else 0)])
            test = np.sort(np.concatenate(picks))
        else:
            test = np.sort(rng.permutation(n)[: max(1, round(n * split.test_size))])
        train = np.setdiff1d(np.arange(n), test)
    if not len(train) or not len(test):
        raise PipelineError(
            f"pipeline {spec.name}: the {split.method} split left "
            f"{len(train)} training and {len(test)} test rows"
        )
    return train, test


def _groups(steps: FeaturePipeline, features: list[str], x_train: np.ndarray) -> FeatureGroups:
    import numpy as np

    index = {name: i for i, name in enumerate(features)}
    one_hot: list[list[int]] = []
    ordinal: list[tuple[int, list[int]]] = []
    encoded: set[int] = set()
    for group in steps.groups():
        if not all(c in index for c in group.columns):
            continue
        positions = [index[c] for c in group.columns]
        encoded.update(positions)
        if group.codes:
            ordinal.append((positions[0], list(group.codes)))
        else:
            one_hot.append(positions)
    continuous = [
        i
        for i in range(len(features))
        if i not in encoded and len(np.unique(x_train[:, i][~np.isnan(x_train[:, i])])) > 2
    ]
    return FeatureGroups(continuous=continuous, one_hot=one_hot, ordinal=ordinal)


def fit_model(
    spec: PipelineSpec, prepared: Prepared, steps: FeaturePipeline, previous: Predictor | None
) -> tuple[FittedModel, dict[str, Any], TrainingInfo]:
    """Train and evaluate; returns the model, the manifest's evaluation fields and training info."""
    import numpy as np

    from lakegate.models import trainer_for

    algorithm = spec.model_spec.canonical_algorithm
    names = [f.name for f in prepared.features]
    notes: list[str] = []
    warm = None
    if spec.model_spec.warm_start and previous is not None:
        reason = _warm_start_blocker(spec, previous, names)
        if reason:
            notes.append(f"warm start skipped: {reason}")
        else:
            warm = previous.model
    model = trainer_for(algorithm).fit(
        prepared.x_train,
        prepared.y_train,
        task=spec.model_spec.task,
        params=dict(spec.model_spec.params),
        seed=spec.seed,
        feature_names=names,
        previous=warm,
    )
    n_classes = len(prepared.classes or [])
    metrics = evaluate(
        model,
        prepared.x_test,
        prepared.y_test,
        task=spec.model_spec.task,
        metrics=spec.metrics,
        n_classes=n_classes,
        seed=spec.seed,
    )
    robustness = assess_robustness(
        model,
        prepared.x_test,
        prepared.y_test,
        task=spec.model_spec.task,
        metrics=spec.metrics,
        groups=_groups(steps, names, prepared.x_train),
        train_std=np.nan_to_num(np.nanstd(prepared.x_train, axis=0)),
        train_median=np.nan_to_num(np.nanmedian(prepared.x_train, axis=0)),
        config=spec.robustness,
        n_classes=n_classes,
    )
    sizes = None
    if spec.model_spec.task == "clustering":
        centers = model.cluster_centers()
        k = len(centers) if centers is not None else int(model.predict_values(prepared.x_train).max()) + 1
        sizes = cluster_sizes(model.predict_values(prepared.x_train), k)
    if prepared.dropped_rows:
        notes.append(f"{prepared.dropped_rows} rows without a target were left out")
    if prepared.ignored:
        notes.append(f"non-numeric columns not used as features: {', '.join(prepared.ignored)}")
    info = TrainingInfo(
        rows_train=len(prepared.x_train),
        rows_test=len(prepared.x_test),
        split=spec.split.model_dump(mode="json"),
        seed=spec.seed,
        warm_started=warm is not None,
        previous_model_sha256=previous.sha256 if warm is not None and previous is not None else None,
        notes=notes,
    )
    return model, {"metrics": metrics, "robustness": robustness, "cluster_sizes": sizes}, info


def _warm_start_blocker(spec: PipelineSpec, previous: Predictor, names: list[str]) -> str | None:
    manifest = previous.manifest
    if manifest.algorithm != spec.model_spec.canonical_algorithm:
        return f"previous model is {manifest.algorithm}"
    if [f.name for f in manifest.features] != names:
        return "the feature columns changed"
    wanted = spec.model_spec.params.get("n_clusters", 8)
    if manifest.params.get("n_clusters", 8) != wanted:
        return "n_clusters changed"
    return None


def input_schema(
    raw: pl.Schema, steps: FeaturePipeline, features: list[str], target: str | None
) -> list[ColumnSpec]:
    """The raw input columns, each marked required when the features cannot be made without it.

    Found by resolving the fitted steps' plan on an empty frame without that column:
    no data is touched, and custom steps are covered as well as built-in ones.
    """
    import polars as pl

    empty = pl.LazyFrame(schema=raw)
    columns = []
    for name, dtype in raw.items():
        if name == target:
            continue
        try:
            steps.transform(empty.drop(name)).select(features).collect_schema()
            required = False
        except Exception:  # noqa: BLE001 - any failure to plan without it means it is needed
            required = True
        columns.append(_column(name, dtype, required=required))
    return columns
