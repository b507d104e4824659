"""Typed results: one generic :class:`CheckResult` plus the details each check kind adds.

These models *are* the report's JSON schema (``report.schema.json`` is generated from them
and a test keeps the file in step), so renaming a field here is a schema change.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lakegate.checks._types import Reason, ReasonCode, Status

__all__ = [
    "AnomalousRow",
    "AnomalyDetails",
    "CheckResult",
    "ColumnCompleteness",
    "ColumnDrift",
    "CompletenessDetails",
    "ContractDetails",
    "ContractFailure",
    "Details",
    "Distribution",
    "DriftDetails",
    "DriftStats",
    "SchemaDetails",
    "TextColumnDrift",
    "TextDriftDetails",
    "TypeChange",
]


class _Frozen(BaseModel):
    # unknown fields are ignored on reading: a report written by a newer release of the same
    # schema version (fields are only ever added) still reads back
    model_config = ConfigDict(frozen=True, extra="ignore")


class TypeChange(_Frozen):
    column: str
    reference: str
    current: str


class SchemaDetails(_Frozen):
    kind: Literal["schema"] = "schema"
    rows: int
    columns: int
    missing: tuple[str, ...] = ()
    new: tuple[str, ...] = ()
    type_changes: tuple[TypeChange, ...] = ()
    all_null: tuple[str, ...] = ()
    constant: tuple[str, ...] = ()


class ContractFailure(_Frozen):
    """One failed rule: which column and check, how many rows failed, a few failing values."""

    code: ReasonCode
    column: str | None
    check: str
    failures: int
    examples: tuple[Any, ...] = ()
    message: str


class ContractDetails(_Frozen):
    kind: Literal["contract"] = "contract"
    rows: int
    columns_checked: int
    failures: tuple[ContractFailure, ...] = ()


class Distribution(_Frozen):
    """Reference vs current shares over the same bins, for plots.

    Numeric columns give ``edges`` (len(shares) + 1, the reference histogram's bins; values
    outside fall into the end bins), categorical ones give ``labels``.
    """

    edges: tuple[float, ...] | None = None
    labels: tuple[str, ...] | None = None
    reference: tuple[float, ...]
    current: tuple[float, ...]


class DriftStats(_Frozen):
    """Every statistic computed for a column (None: not applicable or not computable)."""

    rows_reference: float | None = None
    rows_current: int | None = None
    null_pct_reference: float | None = None
    null_pct_current: float | None = None
    null_pvalue: float | None = None
    ks: float | None = None
    ks_upper: float | None = None
    ks_pvalue: float | None = None
    psi: float | None = None
    wasserstein: float | None = None
    scale: float | None = None
    mean_reference: float | None = None
    mean_current: float | None = None
    mean_shift: float | None = None
    std_reference: float | None = None
    std_current: float | None = None
    std_ratio: float | None = None
    chi2: float | None = None
    chi2_pvalue: float | None = None
    new_share: float | None = None
    vanished_share: float | None = None
    new_categories: tuple[str, ...] | None = None
    vanished_categories: tuple[str, ...] = ()


class ColumnDrift(_Frozen):
    column: str
    kind: Literal["numeric", "categorical"] | None
    label: bool = False
    drifted: bool = False
    score: float | None = Field(default=None, description="max over tests of value/threshold (>= 1: crossed)")
    triggered: tuple[str, ...] = ()
    significant: bool | None = None
    skipped: ReasonCode | None = None
    note: str | None = None
    stats: DriftStats = DriftStats()
    plot: Distribution | None = None


class DriftDetails(_Frozen):
    kind: Literal["drift"] = "drift"
    reference_rows: int
    current_rows: int
    sampled_rows: int | None = None
    target: str | None = None
    drifted: tuple[str, ...] = ()
    drift_share: float = 0.0
    columns: tuple[ColumnDrift, ...] = ()


class TextColumnDrift(_Frozen):
    column: str
    drifted: bool = False
    auc: float | None = None
    pvalue: float | None = None
    reference_rows: int = 0
    current_rows: int = 0
    skipped: ReasonCode | None = None
    terms_reference: tuple[str, ...] = ()
    terms_current: tuple[str, ...] = ()


class TextDriftDetails(_Frozen):
    kind: Literal["text_drift"] = "text_drift"
    embedder: str
    columns: tuple[TextColumnDrift, ...] = ()


class ColumnCompleteness(_Frozen):
    column: str
    null_pct_reference: float | None = None
    null_pct_current: float | None = None
    nulls: int = 0
    failed: bool = False


class CompletenessDetails(_Frozen):
    kind: Literal["completeness"] = "completeness"
    rows: int
    reference_max: float
    increase: float
    failed: tuple[str, ...] = ()
    columns: tuple[ColumnCompleteness, ...] = ()


class AnomalousRow(_Frozen):
    row: int = Field(description="0-based position in the current batch")
    score: float = Field(description="IsolationForest score_samples: lower is more anomalous")
    values: dict[str, Any]


class AnomalyDetails(_Frozen):
    kind: Literal["anomalies"] = "anomalies"
    reference_rows: int
    current_rows: int
    scored_rows: int
    features: tuple[str, ...]
    threshold: float | None = None
    expected_share: float
    anomalous_rows: int = 0
    anomalous_share: float = 0.0
    ratio: float | None = None
    pvalue: float | None = None
    top: tuple[AnomalousRow, ...] = ()


Details = Annotated[
    SchemaDetails | ContractDetails | DriftDetails | TextDriftDetails | AnomalyDetails | CompletenessDetails,
    Field(discriminator="kind"),
]


class CheckResult(_Frozen):
    """What one check found: its verdict, the reasons, and kind-specific details."""

    kind: str
    name: str
    fingerprint: str
    config: dict[str, Any]
    status: Status
    reasons: tuple[Reason, ...] = ()
    seconds: float = 0.0
    details: Details | None = None
