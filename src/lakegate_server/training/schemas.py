from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class PipelineOut(Schema):
    name: str
    description: str
    inputs: list[str]
    task: str
    algorithm: str
    target: str | None
    metrics: list[str]
    promotion: dict[str, Any]
    triggers: list[dict[str, Any]]
    notifications: list[str]
    predict_on: str | None
    output: str | None = Field(None, description="A data pipeline: the dataset it writes (task `dataset`).")
    config_hash: str
    champion_version: int | None
    last_run: int | None = Field(None, description="The newest train run of this pipeline.")
    last_run_status: str | None = None


class PipelineListOut(Schema):
    items: list[PipelineOut]


class ModelOut(Schema):
    name: str
    versions: int
    latest_version: int | None
    champion_version: int | None
    champion_metrics: dict[str, Any]
    task: str
    algorithm: str
    updated_at: datetime


class ModelListOut(Schema):
    items: list[ModelOut]


class ModelVersionSummaryOut(Schema):
    name: str
    version: int
    stage: str
    task: str
    algorithm: str
    metrics: dict[str, Any]
    robustness: dict[str, Any] = Field(..., description="Worst metric drop per perturbation kind.")
    sha256: str
    config_hash: str
    run: int | None
    created_by: str
    created_at: datetime


class ModelDetailOut(ModelOut):
    generation: int = Field(..., description="Changes with every champion change.")
    items: list[ModelVersionSummaryOut]


class ModelVersionOut(ModelVersionSummaryOut):
    params: dict[str, Any]
    robustness: dict[str, Any] = Field(..., description="The robustness table: rows, summary, notes.")
    promotion_metrics: dict[str, Any]
    input_schema: list[dict[str, Any]]
    lineage: list[dict[str, Any]] = Field(
        ..., description="Per input dataset: the accepted versions used and their gate verdicts."
    )
    inputs_fingerprint: str
    code_version: dict[str, str]
    artifact_path: str
    card_path: str
    decision: dict[str, Any] = Field(..., description="The automatic promotion decision at registration.")
    notified: dict[str, Any] | None


class StageChangeIn(Schema):
    reason: str = Field(
        ..., min_length=1, max_length=2000, pattern=r"\S", description="Why: kept in the audit log."
    )
    override: bool = Field(
        False,
        description="Admins only: change the champion even though the version was trained on data "
        "rejected or revoked since (the ledger records the override).",
    )


class StageChangeOut(Schema):
    id: int
    model: str
    version: int
    action: str
    from_stage: str
    to_stage: str
    actor: str
    reason: str
    compared: dict[str, Any]
    gate: list[dict[str, Any]]
    run: int | None
    created_at: datetime


class AuditOut(Schema):
    items: list[StageChangeOut]
