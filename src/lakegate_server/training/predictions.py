"""Batch predictions: a file scored into a Parquet file, or a dataset version scored into a
Parquet batch that the spine commits to the lake (:func:`lakegate_server.flow.predictions_to_lake`).

Models are only ever loaded from the registry with their recorded sha256. Outputs are
written atomically (temp file + rename; a lake table version is one Delta commit).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lakegate.config import Settings
from lakegate.errors import ConflictError, InputError, NotFoundError
from lakegate.lake import batch_frame, convert
from lakegate.models import Predictor, load_model, write_predictions
from lakegate_server.datasets.models import DatasetVersion, VersionStatus
from lakegate_server.datasets.selectors import version_get
from lakegate_server.datasets.services import scratch_dir
from lakegate_server.training.models import ModelVersion, PredictionBatch
from lakegate_server.training.selectors import model_champion, model_version_get, version_artifact_dir
from lakegate_server.training.services import prediction_batch_record

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ScoredBatch", "model_load", "predictions_dataset", "predictions_score", "predictions_to_file"]


def model_load(*, config: Settings, name: str, number: int | None = None) -> tuple[ModelVersion, Predictor]:
    """Version ``number`` of model ``name`` (default: its champion), verified and loaded."""
    if number is None:
        version = model_champion(name=name)
        if version is None:
            raise NotFoundError(
                f"model {name!r} has no champion yet; promote a version or pass one explicitly",
                detail={"model": name},
            )
    else:
        version = model_version_get(name=name, number=number)
    return version, load_model(version_artifact_dir(config, version), version.sha256)


def _read(source: Path, scratch: Path, sheet: str | None) -> pl.LazyFrame:
    """Any readable file as a LazyFrame: Parquet directly, other formats through the converter."""
    import polars as pl

    if source.suffix.lower() == ".parquet" and source.is_file():
        return pl.scan_parquet(source)
    result = convert([source], scratch, format="parquet", sheet=sheet)[0]
    if len(result.tables) != 1:
        names = ", ".join(t.name for t in result.tables) or "none"
        raise InputError(
            f"{source.name}: holds {len(result.tables)} tables ({names}); pick one with --sheet",
            detail={"tables": [t.name for t in result.tables]},
        )
    return pl.scan_parquet(result.tables[0].path)


def predictions_to_file(
    *,
    config: Settings,
    name: str,
    source: Path,
    out: Path,
    number: int | None = None,
    sheet: str | None = None,
    created_by: str = "",
) -> PredictionBatch:
    """Score ``source`` (any format lakegate reads) with the champion into Parquet ``out``."""
    if out.exists() and out.is_dir():
        raise InputError(f"{out} is a folder; give a file name such as predictions.parquet")
    version, predictor = model_load(config=config, name=name, number=number)
    started = time.perf_counter()
    scratch = scratch_dir(config, "predict-")
    try:
        rows = write_predictions(predictor, _read(source, scratch, sheet), out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return prediction_batch_record(
        version=version,
        source=str(source),
        output=str(out),
        rows=rows,
        seconds=time.perf_counter() - started,
        created_by=created_by,
    )


def predictions_dataset(model: str) -> str:
    """The lake table a model's batch predictions land in."""
    return f"{model.lower()}_predictions"


@dataclass(frozen=True)
class ScoredBatch:
    """A dataset version scored by a model version into a Parquet file, ready to commit."""

    model_version: ModelVersion
    scored_version: DatasetVersion
    path: Path
    rows: int
    started: float


def predictions_score(
    *, config: Settings, name: str, dataset: str, number: int, out_dir: Path
) -> ScoredBatch:
    """Score the rows of an accepted dataset version with ``name``'s champion into ``out_dir``.

    Columns: the model's id columns, ``prediction`` (+ ``proba_<label>``), ``model_version``
    and ``source_version``. Scoring the same batch with the same model again writes the
    same bytes, which the lake keeps as one version.
    """
    import polars as pl

    scored_version = version_get(name=dataset, number=number)
    if scored_version.status != VersionStatus.ACCEPTED:
        raise ConflictError(
            f"{dataset} v{number} is {scored_version.status}; only accepted versions are scored",
            detail={"dataset": dataset, "version": number, "status": scored_version.status},
        )
    version, predictor = model_load(config=config, name=name)
    started = time.perf_counter()
    frame = batch_frame(config.lake_table(dataset), scored_version.delta_version)
    scored = predictor.predict_frame(frame).with_columns(
        pl.lit(version.number, dtype=pl.Int64).alias("model_version"),
        pl.lit(number, dtype=pl.Int64).alias("source_version"),
    )
    path = out_dir / f"{dataset}-v{number}-model-v{version.number}.parquet"
    scored.write_parquet(path)
    return ScoredBatch(
        model_version=version, scored_version=scored_version, path=path, rows=scored.height, started=started
    )
