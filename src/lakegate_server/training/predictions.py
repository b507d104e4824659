"""Batch predictions: a file scored into a Parquet file, or a dataset version into the lake.

Models are only ever loaded from the registry with their recorded sha256. Outputs are
written atomically (temp file + rename; a lake table version is one Delta commit).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from lakegate.errors import ConflictError, InputError, NotFoundError
from lakegate.lake import batch_frame, convert
from lakegate.models import Predictor, load_model, write_predictions
from lakegate_server.datasets.models import VersionStatus
from lakegate_server.datasets.selectors import version_get
from lakegate_server.training.models import ModelVersion, PredictionBatch
from lakegate_server.training.selectors import model_champion, model_version_get, version_artifact_dir
from lakegate_server.training.services import prediction_batch_record

if TYPE_CHECKING:
    import polars as pl

__all__ = ["model_load", "predictions_dataset", "predictions_to_file", "predictions_to_lake"]


def model_load(*, name: str, number: int | None = None) -> tuple[ModelVersion, Predictor]:
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
    return version, load_model(version_artifact_dir(version), version.sha256)


def _scratch() -> Path:
    root = settings.LAKEGATE.paths.state / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="predict-", dir=root))


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
    version, predictor = model_load(name=name, number=number)
    started = time.perf_counter()
    scratch = _scratch()
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


def predictions_to_lake(
    *, name: str, dataset: str, number: int, run_id: int | None = None, created_by: str = ""
) -> PredictionBatch:
    """Score the rows of an accepted dataset version into ``<model>_predictions`` (a new version).

    Columns: the model's id columns, ``prediction`` (+ ``proba_<label>``), ``model_version``
    and ``source_version``. Scoring the same batch with the same model again writes the
    same bytes, which the lake keeps as one version.
    """
    import polars as pl

    from lakegate_server.datasets.services import dataset_ingest  # the gate imports training: no cycle

    scored_version = version_get(name=dataset, number=number)
    if scored_version.status != VersionStatus.ACCEPTED:
        raise ConflictError(
            f"{dataset} v{number} is {scored_version.status}; only accepted versions are scored",
            detail={"dataset": dataset, "version": number, "status": scored_version.status},
        )
    version, predictor = model_load(name=name)
    started = time.perf_counter()
    frame = batch_frame(settings.LAKEGATE.lake_table(dataset), scored_version.delta_version)
    scored = predictor.predict_frame(frame).with_columns(
        pl.lit(version.number, dtype=pl.Int64).alias("model_version"),
        pl.lit(number, dtype=pl.Int64).alias("source_version"),
    )
    scratch = _scratch()
    try:
        path = scratch / f"{dataset}-v{number}-model-v{version.number}.parquet"
        scored.write_parquet(path)
        target = predictions_dataset(name)
        outcome = dataset_ingest(
            name=target, source=path, evolve=True, created_by=created_by or f"model:{name}"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return prediction_batch_record(
        version=version,
        source=f"{dataset}@{number}",
        output=f"{target}@{outcome.version.number}",
        rows=scored.height,
        seconds=time.perf_counter() - started,
        source_version=scored_version,
        output_version=outcome.version,
        run_id=run_id,
        created_by=created_by,
    )
