"""Verdicts, reason codes and the result records every check returns.

A check's status is the worst severity among its reasons (``fail`` > ``warn`` > ``pass``);
a check that could not run at all (no reference, too few rows) is ``skip``. The report's
status is the worst status among its checks; ``skip`` never changes the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["Reason", "ReasonCode", "Status", "finite", "worst"]


class Status(StrEnum):
    """A verdict. Ordered: ``skip`` < ``pass`` < ``warn`` < ``fail``."""

    SKIP = "skip"
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Status.SKIP: 0, Status.PASS: 1, Status.WARN: 2, Status.FAIL: 3}


class ReasonCode(StrEnum):
    """Why a check passed, warned, failed or skipped: stable strings, part of the JSON schema."""

    # degenerate data and schema changes (check "schema")
    ZERO_ROWS = "zero_rows"
    ONE_ROW = "one_row"
    NO_COLUMNS = "no_columns"
    MISSING_COLUMN = "missing_column"
    NEW_COLUMN = "new_column"
    TYPE_CHANGED = "type_changed"
    ALL_NULL = "all_null"
    CONSTANT = "constant"
    # contracts (check "contract")
    CONTRACT_ROWS = "contract_rows"
    CONTRACT_MISSING_COLUMN = "contract_missing_column"
    CONTRACT_EXTRA_COLUMN = "contract_extra_column"
    CONTRACT_TYPE = "contract_type"
    CONTRACT_NULLS = "contract_nulls"
    CONTRACT_MIN = "contract_min"
    CONTRACT_MAX = "contract_max"
    CONTRACT_ALLOWED = "contract_allowed"
    CONTRACT_REGEX = "contract_regex"
    CONTRACT_UNIQUE = "contract_unique"
    CONTRACT_OTHER = "contract_other"
    # drift (checks "drift" and "text_drift")
    COLUMN_DRIFT = "column_drift"
    LABEL_DRIFT = "label_drift"
    DATASET_DRIFT = "dataset_drift"
    TEXT_DRIFT = "text_drift"
    # completeness (check "completeness")
    NULL_SHARE_JUMP = "null_share_jump"
    # anomalies (check "anomalies")
    ANOMALY_RATE = "anomaly_rate"
    # why a check or a column was skipped
    NO_REFERENCE = "no_reference"
    NO_REFERENCE_SAMPLE = "no_reference_sample"
    TOO_FEW_ROWS = "too_few_rows"
    NOTHING_TO_CHECK = "nothing_to_check"
    NOT_SKETCHED = "not_sketched"
    HIGH_CARDINALITY = "high_cardinality"
    IDENTIFIER = "identifier"
    # the check itself broke (a bug or an unreadable batch): fails closed
    CHECK_ERROR = "check_error"


class Reason(BaseModel):
    """One finding: a code, its severity, a sentence for people and the numbers behind it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: ReasonCode
    status: Status
    message: str
    column: str | None = None
    value: float | None = None
    threshold: float | None = None


def worst(statuses: Iterable[Status], *, default: Status = Status.PASS) -> Status:
    """The most severe status, or ``default`` when there is none."""
    ranked = list(statuses)
    return max(ranked, key=lambda s: s.rank) if ranked else default


def finite(value: Any, digits: int = 6) -> float | None:
    """``value`` as a JSON-safe float rounded to ``digits`` significant places (None if not finite)."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return float(f"{number:.{digits}g}")
