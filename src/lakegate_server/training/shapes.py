"""The shapes of the registry's JSON fields (``models.JSONField[Shape, Shape]`` in models.py)
and of the rows its selectors return (frozen dataclasses, read by attribute).

Plain types only (models import this module). ``JSON_FIELDS`` lists every JSON field of the
app with the type a stored value must validate as (``tests/server/test_json_shapes.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, NotRequired

from pydantic import ConfigDict, with_config

# typing_extensions' TypedDict: pydantic validates these on Python 3.11 (the shapes test).
from typing_extensions import TypedDict

__all__ = [
    "JSON_FIELDS",
    "CodeVersion",
    "Compared",
    "ComparedVersion",
    "GateVerdict",
    "InputColumn",
    "LineageEntry",
    "Metrics",
    "ModelParams",
    "ModelRow",
    "ModelVersionSummary",
    "NothingCompared",
    "Notified",
    "PipelineRow",
    "PromotionMetrics",
    "RegistrationDecision",
    "Robustness",
    "RobustnessRow",
    "RuleOpinion",
    "StageComparison",
]

# Stored values may hold only the keys declared here (the shapes test refuses others).
_CLOSED = ConfigDict(extra="forbid")

# The trainer's hyper-parameters as recorded (any JSON the algorithm takes).
ModelParams = dict[str, Any]
# Metric name -> value (None when it could not be computed), from the model's manifest.
Metrics = dict[str, float | None]
# What promotion rules read: the metrics, ``robustness`` (kind -> worst drop) and, for a
# clustering, ``min_cluster_share`` (``lakegate.models.Manifest.promotion_metrics``).
PromotionMetrics = dict[str, Any]
# Library -> version (and ``lakegate``, ``git`` when known): recorded, not enforced.
CodeVersion = dict[str, str]
# Notifier name -> None (delivered) or the error it gave.
Notified = dict[str, str | None]


@with_config(_CLOSED)
class RobustnessRow(TypedDict):
    perturbation: str
    level: float
    metric: str
    before: float | None
    after: float | None
    drop: float | None
    note: str


@with_config(_CLOSED)
class Robustness(TypedDict, total=False):
    """``lakegate.models.RobustnessReport`` as JSON (``{}`` when robustness was off)."""

    rows: list[RobustnessRow]
    summary: dict[str, float]  # perturbation kind -> worst metric drop
    notes: list[str]


@with_config(_CLOSED)
class InputColumn(TypedDict):
    """A column of the training schema (``lakegate.models.ColumnSpec`` as JSON)."""

    name: str
    dtype: str
    kind: str
    required: bool


@with_config(_CLOSED)
class GateVerdict(TypedDict):
    """The quality gate's word on one dataset version a model was trained on."""

    dataset: str
    version: int
    status: str
    verdict: str


@with_config(_CLOSED)
class LineageEntry(TypedDict):
    """One input dataset of a model version (``training.inputs.InputLineage.to_dict``)."""

    dataset: str
    versions: list[int]
    latest: int
    rows: int
    fingerprint: str
    gate: list[GateVerdict]


@with_config(_CLOSED)
class RegistrationDecision(TypedDict, total=False):
    """The automatic promotion decision taken at registration (``{}`` before it)."""

    promote: bool
    reason: str
    compared: dict[str, float | None]


@with_config(_CLOSED)
class ComparedVersion(TypedDict):
    version: int
    metrics: PromotionMetrics


@with_config(_CLOSED)
class RuleOpinion(TypedDict):
    promote: bool
    reason: str
    values: dict[str, float | None]


@with_config(_CLOSED)
class Compared(TypedDict):
    """Every value a stage change compared (``training.promotion.compared_metrics``)."""

    candidate: ComparedVersion
    champion: ComparedVersion | None
    rule: NotRequired[RuleOpinion]  # absent when the pipeline's rule could not be read


@with_config(_CLOSED)
class NothingCompared(TypedDict):
    """``{}``, the field's default: a stage change written without a comparison."""


# ``StageChange.compared``: the services always write a Compared.
StageComparison = Compared | NothingCompared


@dataclass(frozen=True)
class ModelRow:
    """One registered model with its champion and latest version (``selectors.model_list``)."""

    name: str
    versions: int
    latest_version: int | None
    champion_version: int | None
    champion_metrics: Metrics
    task: str
    algorithm: str
    updated_at: datetime


@dataclass(frozen=True)
class PipelineRow:
    """One pipeline of lakegate.yaml with its champion and newest run (``selectors.pipeline_list``)."""

    name: str
    description: str
    inputs: list[str]
    task: str  # `dataset` for a data pipeline
    algorithm: str
    output: str | None  # the dataset a data pipeline writes; None for a training pipeline
    target: str | None
    metrics: list[str]
    promotion: dict[str, Any]  # the pipeline's ``promotion:`` as JSON (rule, floor, ...)
    triggers: list[dict[str, Any]]  # each ``triggers:`` entry as JSON (one key: its kind)
    notifications: list[str]
    predict_on: str | None
    config_hash: str
    champion_version: int | None
    last_run: int | None
    last_run_status: str | None


class ModelVersionSummary(TypedDict):
    """One model version in lists (``ModelVersion.summary``); ``to_dict`` adds the full record."""

    name: str
    version: int
    stage: str
    task: str
    algorithm: str
    metrics: Metrics
    robustness: dict[str, float]  # the robustness summary: perturbation kind -> worst drop
    sha256: str
    config_hash: str
    run: int | None
    created_by: str
    created_at: datetime


JSON_FIELDS: Final[dict[str, object]] = {
    "training.ModelVersion.params": ModelParams,
    "training.ModelVersion.metrics": Metrics,
    "training.ModelVersion.promotion_metrics": PromotionMetrics,
    "training.ModelVersion.robustness": Robustness,
    "training.ModelVersion.input_schema": list[InputColumn],
    "training.ModelVersion.lineage": list[LineageEntry],
    "training.ModelVersion.code_version": CodeVersion,
    "training.ModelVersion.decision": RegistrationDecision,
    "training.ModelVersion.notified": Notified | None,
    "training.StageChange.compared": StageComparison,
    "training.StageChange.gate": list[GateVerdict],
}
