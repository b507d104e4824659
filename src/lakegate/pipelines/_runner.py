"""``run_pipeline``: inputs -> cached feature steps -> model folder, with progress events.

Layout under ``workdir`` (one folder per pipeline; keep it between runs to reuse work):

    <step name>/<key>/data.parquet   the step's output      <step name>/<key>/step.json  its state
    model/<key>/                     the saved model (model.json, steps.json, model file)

A step's key hashes its config, its code version and the key of what it read (the
input fingerprint for the first step), so an identical step is read back instead of
recomputed, and any change upstream invalidates everything below it. Every folder is
written beside its final name and renamed into place: a killed run leaves no partial
output, and its retry produces the same keys and the same files.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lakegate._atomic import atomic_dir
from lakegate.errors import LakegateError, PipelineError
from lakegate.features import FeaturePipeline, FittedStep, step_impl, step_name
from lakegate.models import (
    ModelManifest,
    Predictor,
    TrainedModel,
    artifact_sha256,
    code_version,
    save_model,
    trainer_code_version,
    trainer_for,
)
from lakegate.models._manifest import MANIFEST_FILE
from lakegate.pipelines._spec import PipelineSpec, config_hash
from lakegate.pipelines._train import fit_model, input_schema, prepare

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "DataResult",
    "PipelineInput",
    "PipelineResult",
    "ProgressCallback",
    "ProgressEvent",
    "StepResult",
    "run_data_pipeline",
    "run_pipeline",
]

DATA_FILE = "data.parquet"
STEP_FILE = "step.json"
# Bump when the cached step format or semantics change: old cache entries stop matching.
CACHE_VERSION = "1"


@dataclass(frozen=True)
class PipelineInput:
    """An input frame and, optionally, its fingerprint (e.g. the dataset version's content hash).

    Without a fingerprint the frame's content is hashed, which reads it once.
    """

    frame: pl.LazyFrame | pl.DataFrame
    fingerprint: str | None = None


@dataclass(frozen=True)
class ProgressEvent:
    """One line of a run log: ``stage`` (a step name, ``train``, ...) and what happened."""

    stage: str
    status: Literal["started", "done", "cached"]
    message: str
    rows: int | None = None
    seconds: float | None = None


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class StepResult:
    name: str
    kind: str
    key: str
    cached: bool
    rows: int
    columns: list[str]
    seconds: float
    path: Path


@dataclass(frozen=True)
class PipelineResult:
    """What a run produced: step outputs, the saved model and its evaluation."""

    pipeline: str
    config_hash: str
    steps: list[StepResult]
    model_dir: Path
    model_sha256: str
    manifest: ModelManifest
    model_cached: bool
    seconds: float
    input_fingerprints: dict[str, str] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, float | None]:
        return dict(self.manifest.metrics)

    @property
    def cache_hits(self) -> list[str]:
        """Names of the stages read back from cache (steps, and ``model``)."""
        return [s.name for s in self.steps if s.cached] + (["model"] if self.model_cached else [])

    def promotion_metrics(self) -> dict[str, Any]:
        return self.manifest.promotion_metrics()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary for run records and logs."""
        return {
            "pipeline": self.pipeline,
            "config_hash": self.config_hash,
            "model_dir": str(self.model_dir),
            "model_sha256": self.model_sha256,
            "model_cached": self.model_cached,
            "cache_hits": self.cache_hits,
            "seconds": round(self.seconds, 3),
            "metrics": self.metrics,
            "robustness": self.manifest.robustness.summary,
            "inputs": self.input_fingerprints,
            "steps": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "cached": s.cached,
                    "rows": s.rows,
                    "seconds": round(s.seconds, 3),
                }
                for s in self.steps
            ],
        }


def _digest(data: Any) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def frame_fingerprint(frame: pl.LazyFrame) -> str:
    """A content hash of a frame: schema + row hashes (order-sensitive)."""
    import polars as pl

    df = frame.collect()
    digest = hashlib.sha256(repr(df.schema).encode())
    digest.update(pl.__version__.encode())  # row hashes are only stable within a polars version
    if df.height:
        # Two seeds: 128 bits per row, so unrelated rows practically never collide.
        digest.update(df.hash_rows(seed=0).to_numpy().tobytes())
        digest.update(df.hash_rows(seed=1).to_numpy().tobytes())
    return digest.hexdigest()


def _as_input(value: Any) -> PipelineInput:
    return value if isinstance(value, PipelineInput) else PipelineInput(value)


def run_pipeline(
    spec: PipelineSpec,
    inputs: Mapping[str, pl.LazyFrame | pl.DataFrame | PipelineInput],
    workdir: Path,
    *,
    on_step: ProgressCallback | None = None,
    previous_model: Predictor | None = None,
) -> PipelineResult:
    """Run ``spec`` on ``inputs`` (dataset name -> accepted version), caching under ``workdir``.

    ``previous_model`` is the current champion, used to warm-start clustering when the
    spec asks for it. Raises ``PipelineError`` (data problems), ``ConfigError`` (spec
    problems found at run time, e.g. an unknown estimator parameter) or ``InputError``
    (a declared input is missing).
    """
    started = time.perf_counter()
    emit = on_step or (lambda _event: None)
    trainer_for(spec.model_spec.canonical_algorithm).check_params(dict(spec.model_spec.params))  # fail first
    ran = _run_steps(spec, inputs, workdir, emit)
    frame, raw_schema, fitted, results, key = ran.frame, ran.raw_schema, ran.fitted, ran.results, ran.key
    steps = FeaturePipeline(fitted)
    model_key = _digest(
        {
            "features": key,
            "spec": config_hash(spec),
            "previous": previous_model.sha256 if spec.model_spec.warm_start and previous_model else None,
            # Your own trainer: editing its module retrains (as a custom step's module re-runs it).
            "trainer": trainer_code_version(spec.model_spec.canonical_algorithm),
        }
    )
    model_dir = workdir / "model" / model_key[:24]
    model_cached = (model_dir / MANIFEST_FILE).is_file()
    if model_cached:
        emit(ProgressEvent("train", "cached", "model reused from cache"))
        manifest = ModelManifest.model_validate_json((model_dir / MANIFEST_FILE).read_bytes())
        sha = artifact_sha256(model_dir)
    else:
        sha, manifest = _train(spec, frame, raw_schema, steps, model_dir, previous_model, emit)
    return PipelineResult(
        pipeline=spec.name,
        config_hash=config_hash(spec),
        steps=results,
        model_dir=model_dir,
        model_sha256=sha,
        manifest=manifest,
        model_cached=model_cached,
        seconds=time.perf_counter() - started,
        input_fingerprints=ran.fingerprints,
    )


@dataclass(frozen=True)
class _Ran:
    frame: pl.LazyFrame
    raw_schema: pl.Schema
    fitted: list[FittedStep]
    results: list[StepResult]
    key: str
    fingerprints: dict[str, str]


def _run_steps(
    spec: PipelineSpec,
    inputs: Mapping[str, pl.LazyFrame | pl.DataFrame | PipelineInput],
    workdir: Path,
    emit: ProgressCallback,
) -> _Ran:
    """Inputs -> every step (each output cached under ``workdir`` by its key) -> the last frame."""
    import polars as pl

    missing = [name for name in spec.inputs if name not in inputs]
    if missing:
        raise PipelineError(
            f"pipeline {spec.name}: inputs not supplied: {', '.join(missing)}",
            detail={"pipeline": spec.name, "missing": missing},
        )
    primary = _as_input(inputs[spec.inputs[0]])
    frame = primary.frame.lazy() if isinstance(primary.frame, pl.DataFrame) else primary.frame
    emit(ProgressEvent(spec.inputs[0], "started", "fingerprinting input"))
    fingerprint = primary.fingerprint or frame_fingerprint(frame)
    raw_schema = frame.collect_schema()
    emit(ProgressEvent(spec.inputs[0], "done", f"input {spec.inputs[0]} {fingerprint[:12]}"))
    side = _side_inputs(spec, inputs, emit)
    key = _digest({"input": fingerprint, "schema": repr(raw_schema), "cache": CACHE_VERSION})
    fitted: list[FittedStep] = []
    results: list[StepResult] = []
    for index, config in enumerate(spec.steps):
        name = step_name(index, config)
        impl = step_impl(config)
        impl.bind(side)
        key = _digest(
            {"upstream": key, "config": config.model_dump(mode="json"), "code": impl.code_version()}
        )
        folder = workdir / name / key[:24]
        step_started = time.perf_counter()
        cached = (folder / STEP_FILE).is_file()
        emit(ProgressEvent(name, "started", f"step {name} ({config.kind})"))
        if cached:
            meta = json.loads((folder / STEP_FILE).read_text(encoding="utf-8"))
        else:
            meta = _compute_step(spec.name, name, impl, frame, folder, key)
        frame = pl.scan_parquet(folder / DATA_FILE)
        fitted.append(FittedStep.create(name, config, meta["state"]))
        seconds = time.perf_counter() - step_started
        results.append(
            StepResult(name, config.kind, key, cached, meta["rows"], meta["columns"], seconds, folder)
        )
        verb = "reused from cache" if cached else "computed"
        emit(
            ProgressEvent(name, "cached" if cached else "done", f"step {name} {verb}", meta["rows"], seconds)
        )
    fingerprints = {spec.inputs[0]: fingerprint, **{name: fp for name, (_, fp) in side.items()}}
    return _Ran(frame, raw_schema, fitted, results, key, fingerprints)


@dataclass(frozen=True)
class DataResult:
    """What a data pipeline produced: its steps and the output table, ready to ingest."""

    pipeline: str
    dataset: str
    mode: str
    path: Path
    rows: int
    steps: list[StepResult]
    cached: bool
    seconds: float
    input_fingerprints: dict[str, str]

    @property
    def cache_hits(self) -> list[str]:
        return [step.name for step in self.steps if step.cached]


def run_data_pipeline(
    spec: PipelineSpec,
    inputs: Mapping[str, pl.LazyFrame | pl.DataFrame | PipelineInput],
    workdir: Path,
    *,
    on_step: ProgressCallback | None = None,
) -> DataResult:
    """Run a data pipeline (``output:``): the steps' result as one Parquet file under ``workdir``.

    The same steps and cache as :func:`run_pipeline`; the caller ingests the file as a new
    version of ``spec.output.dataset`` (through the quality gate).
    """
    import polars as pl

    if spec.output is None:
        raise PipelineError(f"pipeline {spec.name} trains a model; it has no output dataset")
    started = time.perf_counter()
    emit = on_step or (lambda _event: None)
    ran = _run_steps(spec, inputs, workdir, emit)
    folder = workdir / "output" / ran.key[:24]
    cached = (folder / DATA_FILE).is_file()
    if not cached:
        with atomic_dir(folder) as scratch:
            ran.frame.sink_parquet(scratch / DATA_FILE, compression="zstd")
    rows = int(pl.scan_parquet(folder / DATA_FILE).select(pl.len()).collect().item())
    emit(ProgressEvent("output", "done", f"{rows} rows for {spec.output.dataset}", rows))
    return DataResult(
        pipeline=spec.name,
        dataset=spec.output.dataset,
        mode=spec.output.mode,
        path=folder / DATA_FILE,
        rows=rows,
        steps=ran.results,
        cached=cached,
        seconds=time.perf_counter() - started,
        input_fingerprints=ran.fingerprints,
    )


def _side_inputs(
    spec: PipelineSpec, inputs: Mapping[str, Any], emit: ProgressCallback
) -> dict[str, tuple[pl.LazyFrame, str]]:
    """The inputs after the first (join tables), with their fingerprints."""
    import polars as pl

    side: dict[str, tuple[pl.LazyFrame, str]] = {}
    for name in spec.inputs[1:]:
        item = _as_input(inputs[name])
        frame = item.frame.lazy() if isinstance(item.frame, pl.DataFrame) else item.frame
        fingerprint = item.fingerprint or frame_fingerprint(frame)
        emit(ProgressEvent(name, "done", f"input {name} {fingerprint[:12]}"))
        side[name] = (frame, fingerprint)
    return side


def _compute_step(
    pipeline: str, name: str, impl: Any, frame: pl.LazyFrame, folder: Path, key: str
) -> dict[str, Any]:
    import polars as pl

    try:
        state = impl.fit(frame)
        output = impl.transform(frame, state).collect()
    except LakegateError as exc:
        if isinstance(exc, PipelineError):
            raise PipelineError(f"pipeline {pipeline}: {exc.message}", detail=exc.detail) from exc
        raise
    except pl.exceptions.PolarsError as exc:
        raise PipelineError(
            f"pipeline {pipeline}: step {name} failed: {exc}", detail={"pipeline": pipeline, "step": name}
        ) from exc
    meta = {
        "key": key,
        "name": name,
        "state": {k: v for k, v in state.items() if not k.startswith("_")},
        "rows": output.height,
        "columns": output.columns,
        "schema": {c: str(t) for c, t in output.schema.items()},
    }
    with atomic_dir(folder) as scratch:
        output.write_parquet(scratch / DATA_FILE)
        (scratch / STEP_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
    return meta


def _train(
    spec: PipelineSpec,
    frame: pl.LazyFrame,
    raw_schema: pl.Schema,
    steps: FeaturePipeline,
    model_dir: Path,
    previous: Predictor | None,
    emit: ProgressCallback,
) -> tuple[str, ModelManifest]:
    began = time.perf_counter()
    emit(ProgressEvent("train", "started", f"training {spec.model_spec.canonical_algorithm}"))
    prepared = prepare(spec, frame.collect())
    model, evaluation, info = fit_model(spec, prepared, steps, previous)
    names = [f.name for f in prepared.features]
    emit(
        ProgressEvent(
            "train", "done", _summary(evaluation["metrics"]), info.rows_train, time.perf_counter() - began
        )
    )
    manifest = ModelManifest(
        pipeline=spec.name,
        task=spec.model_spec.task,
        algorithm=spec.model_spec.canonical_algorithm,
        params=dict(spec.model_spec.params),
        format=model.format,
        target=spec.target,
        classes=prepared.classes,
        positive_class=prepared.classes[-1] if prepared.classes and len(prepared.classes) == 2 else None,
        input_schema=input_schema(raw_schema, steps, names, spec.target),
        features=prepared.features,
        id_columns=list(spec.id_columns),
        handles_missing=model.handles_missing,
        row_wise=steps.row_wise,
        primary_metric=spec.primary_metric,
        training=info,
        config_hash=config_hash(spec),
        code_version=code_version(),
        **evaluation,
    )
    trained = TrainedModel(model=model, steps=steps, manifest=manifest)
    sha = save_model(trained, model_dir)
    emit(ProgressEvent("save", "done", f"model saved, sha256 {sha[:12]}"))
    return sha, trained.manifest


def _summary(metrics: Mapping[str, float | None]) -> str:
    return ", ".join(f"{k}={v:.4g}" if v is not None else f"{k}=n/a" for k, v in metrics.items())
