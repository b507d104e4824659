"""``model.json``: everything needed to serve, audit and compare a model version."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lakegate.models._robustness import RobustnessReport
from lakegate.models._tasks import Task

__all__ = ["MANIFEST_FILE", "STEPS_FILE", "ColumnSpec", "ModelManifest", "TrainingInfo", "code_version"]

MANIFEST_FILE = "model.json"
STEPS_FILE = "steps.json"

Scalar = str | int | float | bool


class ColumnSpec(BaseModel):
    """A column of the training schema: its polars type and the kind inputs are checked as."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    dtype: str
    kind: Literal["int", "float", "str", "bool", "date", "datetime", "other"]
    required: bool = True


class TrainingInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rows_train: int
    rows_test: int
    split: dict[str, Any]
    seed: int
    warm_started: bool = False
    previous_model_sha256: str | None = None
    notes: list[str] = Field(default_factory=list)


class ModelManifest(BaseModel):
    """The manifest of a saved model (``model.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1] = 1
    pipeline: str
    task: Task
    algorithm: str
    params: dict[str, Any]
    format: Literal["lightgbm", "xgboost", "skops", "custom"]
    target: str | None
    classes: list[Scalar] | None = None
    positive_class: Scalar | None = None
    input_schema: list[ColumnSpec]
    features: list[ColumnSpec]
    id_columns: list[str] = Field(default_factory=list)
    handles_missing: bool
    row_wise: bool
    metrics: dict[str, float | None]
    primary_metric: str
    robustness: RobustnessReport = Field(default_factory=RobustnessReport)
    cluster_sizes: list[int] | None = None
    training: TrainingInfo
    config_hash: str
    code_version: dict[str, str]
    files: dict[str, str] = Field(default_factory=dict, description="file name -> sha256")

    def promotion_metrics(self) -> dict[str, Any]:
        """The mapping promotion rules read: metrics plus ``robustness`` (and cluster shares)."""
        values: dict[str, Any] = dict(self.metrics)
        values["robustness"] = dict(self.robustness.summary)
        if self.cluster_sizes:
            total = sum(self.cluster_sizes) or 1
            values["min_cluster_share"] = min(self.cluster_sizes) / total
        return values


def code_version() -> dict[str, str]:
    """Versions of lakegate and the libraries a model depends on (recorded, not enforced)."""
    import platform
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for package in ("lakegate", "polars", "numpy", "scikit-learn", "lightgbm", "xgboost", "skops"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions
