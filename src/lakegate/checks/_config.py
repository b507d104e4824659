"""Check configurations: frozen pydantic models with a stable fingerprint.

A configuration is plain data (YAML-able), never code: the registry maps its ``kind`` to the
function that computes it. Every config may override the severity of any reason code
(``severity: {column_drift: fail}``), so one team's warning can be another team's gate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lakegate.checks._contract_model import Contract
from lakegate.checks._results import CheckResult, Details
from lakegate.checks._types import Reason, ReasonCode, Status, worst

__all__ = [
    "DEFAULT_SEVERITY",
    "AnomalyConfig",
    "CheckConfig",
    "CompletenessConfig",
    "ContractConfig",
    "DriftConfig",
    "DriftThresholds",
    "SchemaConfig",
    "TextDriftConfig",
]

DEFAULT_SEVERITY: Mapping[ReasonCode, Status] = {
    ReasonCode.ZERO_ROWS: Status.FAIL,
    ReasonCode.ONE_ROW: Status.WARN,
    ReasonCode.NO_COLUMNS: Status.FAIL,
    ReasonCode.MISSING_COLUMN: Status.FAIL,
    ReasonCode.NEW_COLUMN: Status.WARN,
    ReasonCode.TYPE_CHANGED: Status.FAIL,
    ReasonCode.ALL_NULL: Status.WARN,
    ReasonCode.CONSTANT: Status.WARN,
    **{code: Status.FAIL for code in ReasonCode if code.value.startswith("contract_")},
    ReasonCode.COLUMN_DRIFT: Status.WARN,
    ReasonCode.LABEL_DRIFT: Status.FAIL,
    ReasonCode.DATASET_DRIFT: Status.FAIL,
    ReasonCode.TEXT_DRIFT: Status.WARN,
    ReasonCode.NULL_SHARE_JUMP: Status.FAIL,
    ReasonCode.ANOMALY_RATE: Status.WARN,  # the check raises it to fail past ``fail_ratio``
    ReasonCode.NO_REFERENCE: Status.SKIP,
    ReasonCode.NO_REFERENCE_SAMPLE: Status.SKIP,
    ReasonCode.TOO_FEW_ROWS: Status.SKIP,
    ReasonCode.NOTHING_TO_CHECK: Status.SKIP,
    ReasonCode.NOT_SKETCHED: Status.PASS,
    ReasonCode.HIGH_CARDINALITY: Status.PASS,
    ReasonCode.IDENTIFIER: Status.PASS,
    ReasonCode.CHECK_ERROR: Status.FAIL,
}


class CheckConfig(BaseModel):
    """Base of every check configuration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    name: str | None = Field(default=None, description="label in reports (defaults to the kind)")
    severity: dict[ReasonCode, Literal["pass", "warn", "fail"]] = Field(
        default_factory=dict, description="override the status a reason code gives"
    )

    @property
    def label(self) -> str:
        return self.name or self.kind

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over the canonical JSON of the config: equal configs, equal prints."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def reason(
        self,
        code: ReasonCode,
        message: str,
        *,
        column: str | None = None,
        value: float | None = None,
        threshold: float | None = None,
        status: Status | None = None,
    ) -> Reason:
        """A reason with the severity this config gives ``code`` (an override beats ``status``)."""
        override = self.severity.get(code)
        chosen = Status(override) if override else (status or DEFAULT_SEVERITY[code])
        return Reason(
            code=code, status=chosen, message=message, column=column, value=value, threshold=threshold
        )

    def result(self, reasons: list[Reason], details: Details | None = None) -> CheckResult:
        """The check's result: its status is the worst of its reasons (``pass`` without any)."""
        return CheckResult(
            kind=self.kind,
            name=self.label,
            fingerprint=self.fingerprint(),
            config=self.model_dump(mode="json"),
            status=worst(r.status for r in reasons),
            reasons=tuple(reasons),
            details=details,
        )


class SchemaConfig(CheckConfig):
    """Degenerate data and schema changes against the reference: never crashes, always a verdict."""

    kind: Literal["schema"] = "schema"


class ContractConfig(CheckConfig):
    """Enforce a data contract (types, nulls, ranges, allowed values, regex, uniqueness, rows)."""

    kind: Literal["contract"] = "contract"
    contract: Contract
    examples: int = Field(default=5, ge=0, le=100, description="failure cases kept per failed check")


class DriftThresholds(BaseModel):
    """When a column counts as drifted: any set threshold crossed (``None`` switches a test off).

    Distances are "at least" thresholds, p-values are "below" thresholds.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ks: float | None = Field(default=0.1, ge=0, le=1, description="KS distance (numeric)")
    ks_pvalue: float | None = Field(default=None, gt=0, lt=1)
    psi: float | None = Field(default=0.2, ge=0, description="population stability index")
    wasserstein: float | None = Field(default=0.1, ge=0, description="W1 / reference scale (numeric)")
    mean_shift: float | None = Field(default=None, ge=0, description="|mean change| / reference scale")
    std_ratio: float | None = Field(default=None, ge=1, description="max(cur/ref, ref/cur) of std")
    chi2_pvalue: float | None = Field(default=None, gt=0, lt=1, description="categorical")
    new_share: float | None = Field(default=0.05, ge=0, le=1, description="rows in unseen categories")
    vanished_share: float | None = Field(default=0.05, ge=0, le=1, description="reference rows lost")
    null_pct_delta: float | None = Field(default=10.0, ge=0, le=100, description="percentage points")


class DriftConfig(CheckConfig):
    """Column drift against the reference's stored sketches (never the reference data)."""

    kind: Literal["drift"] = "drift"
    columns: tuple[str, ...] | None = Field(default=None, description="only these (default: all shared)")
    exclude: tuple[str, ...] = ()
    target: str | None = Field(default=None, description="label column: its drift is label drift")
    thresholds: DriftThresholds = DriftThresholds()
    per_column: dict[str, dict[str, float | None]] = Field(
        default_factory=dict, description="threshold overrides per column, e.g. {age: {psi: 0.1}}"
    )
    significance: float | None = Field(
        default=0.05, gt=0, lt=1, description="a drift must also be significant (KS / chi2 p-value)"
    )
    psi_bins: Literal["quantile", "histogram"] = "quantile"
    scale: Literal["std", "iqr"] = Field(default="std", description="Wasserstein / mean shift unit")
    dataset_share: float = Field(default=0.5, gt=0, le=1, description="share of drifted columns")
    min_rows: int = Field(default=10, ge=1)
    max_rows: int | None = Field(
        default=None, ge=1000, description="hash-sample the current batch above this many rows"
    )
    seed: int = 0

    @field_validator("per_column")
    @classmethod
    def _known_thresholds(
        cls, value: dict[str, dict[str, float | None]]
    ) -> dict[str, dict[str, float | None]]:
        for column, overrides in value.items():
            if not overrides:
                raise ValueError(f"{column}: no thresholds given")
            try:
                DriftThresholds.model_validate(overrides)  # names and ranges, early
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                raise ValueError(f"{column}.{where}: {first['msg']}") from None
        return value

    def thresholds_for(self, column: str) -> DriftThresholds:
        overrides = self.per_column.get(column)
        return self.thresholds.model_copy(update=overrides) if overrides else self.thresholds


class CompletenessConfig(CheckConfig):
    """A column that was (nearly) complete in the reference and is now often null: a failure."""

    kind: Literal["completeness"] = "completeness"
    columns: tuple[str, ...] | None = Field(default=None, description="only these (default: all shared)")
    exclude: tuple[str, ...] = ()
    reference_max: float = Field(
        default=1.0, ge=0, le=100, description="reference null share (%) at most this counts as complete"
    )
    increase: float = Field(
        default=20.0, gt=0, le=100, description="percentage points of null share gained that fail"
    )
    min_rows: int = Field(default=10, ge=1)


class TextDriftConfig(CheckConfig):
    """Drift of free-text columns: embeddings of sampled texts, then a domain classifier's AUC."""

    kind: Literal["text_drift"] = "text_drift"
    columns: tuple[str, ...] | None = Field(default=None, description="default: high-cardinality text")
    embedder: Literal["tfidf", "minilm"] = "tfidf"
    dims: int = Field(default=64, ge=2, le=512, description="TF-IDF -> SVD dimensions")
    auc: float = Field(default=0.6, gt=0.5, le=1, description="domain classifier AUC that means drift")
    significance: float = Field(default=0.01, gt=0, lt=1)
    folds: int = Field(default=5, ge=2, le=20)
    max_rows: int = Field(default=2000, ge=20, description="texts per side (hash-sampled)")
    min_rows: int = Field(default=20, ge=4)
    seed: int = 0


class AnomalyConfig(CheckConfig):
    """Row-level anomalies: an IsolationForest fit on the reference sample scores the batch."""

    kind: Literal["anomalies"] = "anomalies"
    columns: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    contamination: float = Field(default=0.01, gt=0, lt=0.5, description="expected anomalous share")
    warn_ratio: float = Field(default=3.0, gt=1)
    fail_ratio: float = Field(default=10.0, gt=1)
    significance: float = Field(default=0.01, gt=0, lt=1)
    n_estimators: int = Field(default=100, ge=10, le=1000)
    max_rows: int = Field(default=100_000, ge=100, description="hash-sample the current batch above")
    min_rows: int = Field(default=50, ge=10, description="reference sample rows needed to fit")
    top_k: int = Field(default=10, ge=0, le=100)
    seed: int = 0

    @model_validator(mode="after")
    def _ordered(self) -> AnomalyConfig:
        if self.fail_ratio < self.warn_ratio:
            raise ValueError("fail_ratio must be >= warn_ratio")
        return self
