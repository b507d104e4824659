"""Ledger writes: append a decision (the one way anything is decided about a version)."""

from __future__ import annotations

from typing import Any

from lakegate.errors import InputError
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.ledger.models import Action, Decision
from lakegate_server.ledger.selectors import latest_decision
from lakegate_server.ledger.shapes import DecisionDetail

__all__ = ["decision_record", "reason_required"]


def reason_required(reason: str, what: str) -> str:
    """``reason`` stripped; an InputError naming the field when there is none."""
    reason = reason.strip()
    if not reason:
        raise InputError(f"say why: {what} needs a reason", detail={"field": "reason"})
    return reason


def decision_record(
    *,
    action: Action,
    outcome: str,
    actor: str,
    reason: str,
    dataset_version: DatasetVersion | None = None,
    model_version: Any = None,
    verdict: str = "",
    detail: DecisionDetail | None = None,
) -> Decision:
    """Append a decision about one subject; it replaces the subject's newest decision.

    Call it inside the transaction that holds the subject's row lock and writes the
    projection (``DatasetVersion.status``, ``ModelVersion.stage``), so both commit together.
    """
    replaces = latest_decision(dataset_version=dataset_version, model_version=model_version)
    return Decision.objects.create(
        action=action,
        dataset_version=dataset_version,
        model_version=model_version,
        outcome=outcome,
        verdict=verdict,
        actor=actor or "lakegate",
        reason=reason,
        replaces=replaces,
        detail=detail or {},
    )
