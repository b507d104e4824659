"""The model registry: one row per pipeline's model, its versions, the stage audit log,
prediction batches, and the trigger firings that started runs.

Idempotency lives in constraints, not in hope: a training run registers at most one
version (unique model + run), identical artifacts are one version (unique model + sha256),
and a trigger fires once per key (unique pipeline + trigger + key), so a retried run, a
restarted scheduler or two schedulers at once cannot double anything.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from django.db import models

from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.jobs.models import Run
from lakegate_server.training.shapes import (
    CodeVersion,
    GateVerdict,
    InputColumn,
    LineageEntry,
    Metrics,
    ModelParams,
    ModelVersionSummary,
    Notified,
    PromotionMetrics,
    RegistrationDecision,
    Robustness,
    StageComparison,
)


class Stage(models.TextChoices):
    CANDIDATE = "candidate", "Candidate: registered, not serving"
    CHAMPION = "champion", "Champion: serves predictions"
    ARCHIVED = "archived", "Archived: a former champion"


class RegisteredModel(models.Model):
    """The models of one pipeline (same name). ``generation`` changes with every champion change."""

    name = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped in the transaction that changes the champion: the online route polls this
    # one number per model instead of reading versions on every request.
    generation = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class ModelVersion(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.CANDIDATE)
    task = models.CharField(max_length=20)
    algorithm = models.CharField(max_length=200)
    params: models.JSONField[ModelParams, ModelParams] = models.JSONField(default=dict)
    metrics: models.JSONField[Metrics, Metrics] = models.JSONField(default=dict)
    # What promotion rules read: metrics + robustness summary (+ cluster shares).
    promotion_metrics: models.JSONField[PromotionMetrics, PromotionMetrics] = models.JSONField(default=dict)
    robustness: models.JSONField[Robustness, Robustness] = models.JSONField(
        default=dict, help_text="rows, summary and notes of the robustness table"
    )
    input_schema: models.JSONField[list[InputColumn], list[InputColumn]] = models.JSONField(default=list)
    lineage: models.JSONField[list[LineageEntry], list[LineageEntry]] = models.JSONField(default=list)
    dataset_versions = models.ManyToManyField(DatasetVersion, related_name="model_versions", blank=True)
    config_hash = models.CharField(max_length=64)
    inputs_fingerprint = models.CharField(max_length=64)
    code_version: models.JSONField[CodeVersion, CodeVersion] = models.JSONField(default=dict)
    artifact_path = models.CharField(max_length=500, help_text="Model folder, relative to the project.")
    sha256 = models.CharField(max_length=64)
    card_path = models.CharField(max_length=500, blank=True)
    # The automatic promotion decision taken at registration: {promote, reason, compared}.
    decision: models.JSONField[RegistrationDecision, RegistrationDecision] = models.JSONField(default=dict)
    # name -> None (delivered) or the error; null until notifications were sent.
    notified: models.JSONField[Notified | None, Notified | None] = models.JSONField(null=True, blank=True)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["model_id", "-number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["model", "number"], name="model_version_number"),
            # A killed and retried training run registers its model once.
            models.UniqueConstraint(
                fields=["model", "run"], condition=models.Q(run__isnull=False), name="model_version_run"
            ),
            # The same artifact (same data, config and code give the same bytes) is one version.
            models.UniqueConstraint(fields=["model", "sha256"], name="model_version_sha256"),
        ]
        indexes: ClassVar = [models.Index(fields=["model", "stage"], name="model_version_stage")]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.number} ({self.stage})"

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def primary_metric(self) -> str | None:
        return next(iter(self.metrics), None)

    def summary(self) -> ModelVersionSummary:
        return {
            "name": self.model.name,
            "version": self.number,
            "stage": self.stage,
            "task": self.task,
            "algorithm": self.algorithm,
            "metrics": self.metrics,
            "robustness": self.robustness.get("summary", {}),
            "sha256": self.sha256,
            "config_hash": self.config_hash,
            "run": self.run_id,
            "created_by": self.created_by,
            "created_at": self.created_at,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything about the version: the registry's record of it."""
        return {
            **self.summary(),
            "params": self.params,
            "robustness": self.robustness,
            "promotion_metrics": self.promotion_metrics,
            "input_schema": self.input_schema,
            "lineage": self.lineage,
            "inputs_fingerprint": self.inputs_fingerprint,
            "code_version": self.code_version,
            "artifact_path": self.artifact_path,
            "card_path": self.card_path,
            "decision": self.decision,
            "notified": self.notified,
        }


class _StageChangeQuerySet(models.QuerySet["StageChange"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("the stage audit log is append-only")

    def delete(self) -> NoReturn:
        raise TypeError("the stage audit log is append-only")


class StageAction(models.TextChoices):
    REGISTERED = "registered", "Registered after training"
    PROMOTED = "promoted", "Promoted to champion"
    ARCHIVED = "archived", "Archived (replaced as champion)"
    ROLLED_BACK = "rolled_back", "Restored as champion (rollback)"


class StageChange(models.Model):
    """One stage change of a model version: append-only (updates and deletes raise)."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="stage_changes")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="stage_changes")
    action = models.CharField(max_length=20, choices=StageAction.choices)
    from_stage = models.CharField(max_length=10, blank=True)
    to_stage = models.CharField(max_length=10)
    actor = models.CharField(max_length=100, help_text="run:<id>, token:<name>, user:<login> or cli")
    reason = models.TextField()
    # Every value the decision compared (candidate and champion metrics, rule terms).
    compared: models.JSONField[StageComparison, StageComparison] = models.JSONField(default=dict)
    # The quality gate's verdicts of the data the version was trained on.
    gate: models.JSONField[list[GateVerdict], list[GateVerdict]] = models.JSONField(default=list)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = _StageChangeQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.version.number}: {self.from_stage or '-'} -> {self.to_stage}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("the stage audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("the stage audit log is append-only")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "model": self.model.name,
            "version": self.version.number,
            "action": self.action,
            "from_stage": self.from_stage,
            "to_stage": self.to_stage,
            "actor": self.actor,
            "reason": self.reason,
            "compared": self.compared,
            "gate": self.gate,
            "run": self.run_id,
            "created_at": self.created_at,
        }


class PredictionBatch(models.Model):
    """Predictions written by one model version for one input (a file or a dataset version)."""

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="prediction_batches")
    source = models.CharField(max_length=500, help_text="The scored file, or dataset@version.")
    source_version = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    output = models.CharField(max_length=500, help_text="The Parquet file, or dataset@version.")
    output_version = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rows = models.BigIntegerField()
    seconds = models.FloatField(default=0.0)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["run", "version"], condition=models.Q(run__isnull=False), name="prediction_batch_run"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version}: {self.source} -> {self.output}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "model": self.version.model.name,
            "version": self.version.number,
            "source": self.source,
            "output": self.output,
            "rows": self.rows,
            "seconds": self.seconds,
            "run": self.run_id,
            "created_by": self.created_by,
            "created_at": self.created_at,
        }


class TriggerFire(models.Model):
    """A trigger that fired (or, for cron, was armed): at most once per pipeline + trigger + key.

    Cron keys are the scheduled time (ISO, UTC); new-version keys are ``dataset@number``.
    The latest cron row is the schedule's last fire time, kept across scheduler restarts.
    """

    pipeline = models.CharField(max_length=64)
    trigger = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    fired_at = models.DateTimeField()
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-fired_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["pipeline", "trigger", "key"], name="trigger_fire_once")
        ]

    def __str__(self) -> str:
        return f"{self.pipeline} {self.trigger} {self.key}"
