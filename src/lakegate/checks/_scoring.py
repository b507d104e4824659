"""Scoring drift's checks: production inputs and predictions against a model's training profile.

The same checks as the gate, set up for a model: ``completeness`` over its input columns and
``drift`` over them plus the ``prediction`` column, which is compared with the training
target's stored profile as the drift check's label. A classifier's predicted class shares
differ from the true ones by its bias, so prediction drift (``label_drift``) only warns by
default; ``severity`` overrides that and any other reason code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from lakegate.checks._config import CheckConfig, CompletenessConfig, DriftConfig
from lakegate.checks._reference import Profile

__all__ = ["PREDICTION", "scoring_checks", "scoring_reference"]

PREDICTION = "prediction"

Severity = Literal["pass", "warn", "fail"]


def scoring_reference(training: Profile, *, target: str | None) -> dict[str, Any]:
    """The training profile with the target's entry also under ``prediction`` (when known)."""
    profile = dict(training)
    if target and target in profile:
        profile[PREDICTION] = profile[target]
    return profile


def scoring_checks(
    inputs: Sequence[str],
    *,
    prediction: bool,
    severity: Mapping[str, Severity] | None = None,
    max_rows: int | None = None,
) -> tuple[CheckConfig, ...]:
    """Completeness over ``inputs``; drift over ``inputs`` (+ ``prediction`` as the label)."""
    overrides: dict[str, Any] = {"label_drift": "warn", **(severity or {})}
    columns = (*inputs, PREDICTION) if prediction else tuple(inputs)
    return (
        CompletenessConfig(columns=tuple(inputs), severity=overrides),
        DriftConfig(
            columns=columns, target=PREDICTION if prediction else None, severity=overrides, max_rows=max_rows
        ),
    )
