"""The decision ledger: every decision about a dataset version or a model version, appended once.

A row is never changed or deleted (the model refuses, and database triggers refuse too, so
neither a bug nor a hand-written UPDATE can rewrite history). A decision that overrides an
earlier one points at it (``replaces``); what is in force is derived from the rows:

- a dataset version: its standing manual decision (``approve`` or ``reject`` that no later
  ``revoke`` withdrew) wins; without one, the latest gate ``verdict`` decides;
- a model version: the latest ``promote`` / ``rollback`` / ``archive`` says its stage.

``DatasetVersion.status`` and ``ModelVersion.stage`` are projections of these rows, written
in the same transaction as the decision (``ledger.selectors.derived_status`` recomputes them;
a test holds the two equal).
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from django.db import models

from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.ledger.shapes import DecisionDetail, DecisionDict, DecisionSubject


class Action(models.TextChoices):
    VERDICT = "verdict", "The quality gate's verdict"
    APPROVE = "approve", "Accepted by hand (overrides a refusal)"
    REJECT = "reject", "Blocked by hand (overrides an acceptance)"
    REVOKE = "revoke", "An approval withdrawn"
    PROMOTE = "promote", "Made champion"
    ROLLBACK = "rollback", "Restored as champion"
    ARCHIVE = "archive", "Replaced as champion"


DATA_ACTIONS = frozenset({Action.VERDICT, Action.APPROVE, Action.REJECT, Action.REVOKE})
MODEL_ACTIONS = frozenset({Action.PROMOTE, Action.ROLLBACK, Action.ARCHIVE})


class _DecisionQuerySet(models.QuerySet["Decision"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("the decision ledger is append-only")

    def delete(self) -> NoReturn:
        raise TypeError("the decision ledger is append-only")


class Decision(models.Model):
    """One decision: who, when, why, about what, what it replaced, what it led to."""

    action = models.CharField(max_length=10, choices=Action.choices)
    dataset_version = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    # By app label, not import: the registry sits above the ledger and writes into it.
    model_version = models.ForeignKey(
        "training.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    outcome = models.CharField(
        max_length=10, help_text="What the subject is after it: accepted/rejected, or champion/archived."
    )
    verdict = models.CharField(max_length=10, blank=True, help_text="pass, warn or fail (verdicts only).")
    actor = models.CharField(max_length=100, help_text="run:<id>, token:<name>, user:<login> or cli")
    reason = models.TextField()
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    detail: models.JSONField[DecisionDetail, DecisionDetail] = models.JSONField(
        default=dict, blank=True, help_text="Report id, override, impact, ..."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = _DecisionQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(dataset_version__isnull=False, model_version__isnull=True)
                | models.Q(dataset_version__isnull=True, model_version__isnull=False),
                name="decision_has_one_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.subject_label} -> {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("the decision ledger is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("the decision ledger is append-only")

    def _subject(self) -> tuple[str, str, int]:
        """(kind, name, version number) of the one subject (``decision_has_one_subject``)."""
        if self.dataset_version is not None:
            return "dataset", self.dataset_version.dataset.name, self.dataset_version.number
        if self.model_version is None:
            raise TypeError(f"decision {self.pk} has no subject")  # the check constraint forbids it
        return "model", self.model_version.model.name, self.model_version.number

    @property
    def subject_label(self) -> str:
        kind, name, number = self._subject()
        return f"{kind} {name} v{number}"

    def to_dict(self) -> DecisionDict:
        kind, name, number = self._subject()
        subject: DecisionSubject = {"kind": kind, "name": name, "version": number}
        return {
            "id": self.pk,
            "action": self.action,
            "subject": subject,
            "outcome": self.outcome,
            "verdict": self.verdict,
            "actor": self.actor,
            "reason": self.reason,
            "replaces": self.replaces_id,
            "detail": self.detail,
            "created_at": self.created_at,
        }
