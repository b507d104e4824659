"""Pipelines: YAML spec (base + per-environment overlays) -> feature steps -> model.

- :func:`load_pipelines` / :func:`load_pipeline` read the ``pipelines:`` section of
  ``lakegate.yaml`` for an environment (``dev``, ``preprod``, ``prod``) into typed
  :class:`PipelineSpec` objects; :func:`config_hash` is their stable hash.
- :func:`run_pipeline` runs a spec on accepted dataset versions (polars LazyFrames),
  caching each step's output under a work folder, and returns a :class:`PipelineResult`
  with the saved model folder, its sha256, metrics and robustness table.
- :func:`run_data_pipeline` runs a data pipeline (``output:`` instead of ``model:``): the
  same steps and cache, its result one Parquet file to ingest as a dataset version.
- :func:`validate_pipeline` runs the checks that import libraries (estimator
  parameters, custom step functions) without running anything.

Feature steps live in :mod:`lakegate.features`; trainers, artifacts, the predictor and
promotion rules in :mod:`lakegate.models`.
"""

from lakegate.pipelines._load import (
    ENVIRONMENTS,
    deep_merge,
    load_notifiers,
    load_pipeline,
    load_pipelines,
    resolve_environment,
)
from lakegate.pipelines._runner import (
    DataResult,
    PipelineInput,
    PipelineResult,
    ProgressCallback,
    ProgressEvent,
    StepResult,
    frame_fingerprint,
    run_data_pipeline,
    run_pipeline,
)
from lakegate.pipelines._spec import (
    CronTrigger,
    ManualTrigger,
    ModelSpec,
    NewVersionTrigger,
    OutputSpec,
    PipelineSpec,
    SplitSpec,
    Trigger,
    config_hash,
)
from lakegate.pipelines._validate import validate_pipeline

__all__ = [
    "ENVIRONMENTS",
    "CronTrigger",
    "DataResult",
    "ManualTrigger",
    "ModelSpec",
    "NewVersionTrigger",
    "OutputSpec",
    "PipelineInput",
    "PipelineResult",
    "PipelineSpec",
    "ProgressCallback",
    "ProgressEvent",
    "SplitSpec",
    "StepResult",
    "Trigger",
    "config_hash",
    "deep_merge",
    "frame_fingerprint",
    "load_notifiers",
    "load_pipeline",
    "load_pipelines",
    "resolve_environment",
    "run_data_pipeline",
    "run_pipeline",
    "validate_pipeline",
]
