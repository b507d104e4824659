"""Ledger reads: the decisions about a subject, and what is in force derived from them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from lakegate_server.datasets.models import DatasetVersion, VersionStatus
from lakegate_server.ledger.models import Action, Decision

__all__ = ["decisions_list", "derived_status", "latest_decision", "standing_approval"]


def decisions_list(
    *,
    dataset: str | None = None,
    version: int | None = None,
    model: str | None = None,
    limit: int = 200,
) -> QuerySet[Decision]:
    """Decisions, newest first; about one dataset (version) or one model (version) when named."""
    decisions = Decision.objects.select_related("dataset_version__dataset", "model_version__model").order_by(
        "-id"
    )
    if dataset is not None:
        decisions = decisions.filter(dataset_version__dataset__name=dataset)
        if version is not None:
            decisions = decisions.filter(dataset_version__number=version)
    if model is not None:
        decisions = decisions.filter(model_version__model__name=model)
        if version is not None:
            decisions = decisions.filter(model_version__number=version)
    return decisions[:limit]


def latest_decision(
    # model_version: a training.ModelVersion. The ledger sits below training (import-linter
    # layers), so it cannot import the class to name it.
    *,
    dataset_version: DatasetVersion | None = None,
    model_version: Any = None,
) -> Decision | None:
    """The newest decision about one subject (what a new decision replaces)."""
    decisions = Decision.objects.order_by("-id")
    if dataset_version is not None:
        return decisions.filter(dataset_version=dataset_version).first()
    return decisions.filter(model_version=model_version).first()


def _in_force(decisions: Iterable[Decision]) -> tuple[Decision | None, Decision | None]:
    """(the standing manual decision, the latest verdict) among ``decisions`` (oldest first)."""
    manual: Decision | None = None
    verdict: Decision | None = None
    for decision in decisions:
        if decision.action == Action.VERDICT:
            verdict = decision
        elif decision.action in {Action.APPROVE, Action.REJECT}:
            manual = decision
        elif decision.action == Action.REVOKE:
            manual = None
    return manual, verdict


def standing_approval(version: DatasetVersion) -> Decision | None:
    """The approval in force for ``version`` (None when there is none, or it was revoked)."""
    manual, _ = _in_force(version.decisions.order_by("id"))
    return manual if manual is not None and manual.action == Action.APPROVE else None


def derived_status(version: DatasetVersion) -> str:
    """What the ledger says ``version`` is: a standing approve/reject wins, else the latest verdict.

    ``DatasetVersion.status`` holds the same value, written with each decision; this is the
    definition it is checked against.
    """
    manual, verdict = _in_force(version.decisions.order_by("id"))
    if manual is not None:
        return manual.outcome
    if verdict is not None:
        return verdict.outcome
    return VersionStatus.PENDING
