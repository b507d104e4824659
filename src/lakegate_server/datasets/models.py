"""The dataset catalog: datasets, their versions (one per accepted file), and quarantined files.

The Delta table under ``.lakegate/lake/<name>`` holds the data; a ``DatasetVersion``
records which Delta version a lakegate version is, so readers read exactly what the
catalog accepted.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.validators import RegexValidator
from django.db import models

from lakegate_server.datasets.shapes import ColumnTypes, VersionStats, VersionSummary

NAME_RE = r"^[a-z0-9][a-z0-9_-]{0,99}$"
name_validator = RegexValidator(
    NAME_RE, "use 1-100 lower-case letters, digits, '_' or '-', starting with a letter or digit"
)


class Dataset(models.Model):
    name = models.CharField(max_length=100, unique=True, validators=[name_validator])
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    PENDING = "pending", "Pending: the quality gate has not decided yet"
    ACCEPTED = "accepted", "Accepted: pipelines may use it"
    REJECTED = "rejected", "Rejected by the quality gate (stored, not used)"


class DatasetVersion(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    delta_version = models.PositiveIntegerField()
    # The Delta version after a compaction of this (latest) version: the same rows in fewer
    # files. Readers keep reading ``delta_version``; the next write builds on this one.
    compacted_delta_version = models.PositiveIntegerField(null=True, blank=True)
    mode = models.CharField(max_length=10, default="append")
    source_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    rows = models.BigIntegerField(help_text="Rows in this file's batch.")
    total_rows = models.BigIntegerField(help_text="Rows in the dataset as of this version.")
    bytes_in = models.BigIntegerField()
    bytes_out = models.BigIntegerField()
    # JSON fields: their shapes are in shapes.py.
    schema: models.JSONField[ColumnTypes, ColumnTypes] = models.JSONField(
        default=dict, help_text="Column -> type of this batch."
    )
    table_schema: models.JSONField[ColumnTypes, ColumnTypes] = models.JSONField(
        default=dict, help_text="Column -> type family of the table after it."
    )
    stats: models.JSONField[VersionStats, VersionStats] = models.JSONField(
        default=dict, help_text="Per-column statistics and sketches of this batch."
    )
    added_columns: models.JSONField[list[str], list[str]] = models.JSONField(default=list)
    widened_columns: models.JSONField[ColumnTypes, ColumnTypes] = models.JSONField(default=dict)
    warnings: models.JSONField[list[str], list[str]] = models.JSONField(default=list)
    seconds = models.FloatField(default=0.0)
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The quality gate's decision; an editor can approve a rejected version (who, when, why).
    status = models.CharField(max_length=10, choices=VersionStatus.choices, default=VersionStatus.PENDING)
    verdict = models.CharField(max_length=10, blank=True, help_text="pass, warn or fail of the last check")
    approved_by = models.CharField(max_length=100, blank=True)
    approved_reason = models.TextField(blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["dataset_id", "-number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["dataset", "number"], name="dataset_version_number"),
            # Content-hash dedupe: the same bytes never become two versions, even in a race.
            models.UniqueConstraint(fields=["dataset", "sha256"], name="dataset_version_sha256"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.name} v{self.number}"

    @property
    def head_delta_version(self) -> int:
        """The Delta version the next write of the dataset must build on."""
        return (
            self.compacted_delta_version if self.compacted_delta_version is not None else self.delta_version
        )

    def summary(self) -> VersionSummary:
        return {
            "dataset": self.dataset.name,
            "version": self.number,
            "delta_version": self.delta_version,
            "mode": self.mode,
            "source": self.source_name,
            "sha256": self.sha256,
            "rows": self.rows,
            "total_rows": self.total_rows,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "ratio": round(self.bytes_in / self.bytes_out, 3) if self.bytes_out else 0.0,
            "schema": self.schema,
            "added_columns": self.added_columns,
            "widened_columns": self.widened_columns,
            "warnings": self.warnings,
            "seconds": self.seconds,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "status": self.status,
            "verdict": self.verdict,
            "approved_by": self.approved_by,
            "approved_reason": self.approved_reason,
            "approved_at": self.approved_at,
        }


class QuarantinedFile(models.Model):
    """A file kept in ``.lakegate/quarantine/<id>/`` because it could not be ingested."""

    id = models.CharField(primary_key=True, max_length=40)
    dataset = models.CharField(max_length=100)
    source_name = models.CharField(max_length=500)
    code = models.CharField(max_length=50)
    reason = models.TextField()
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retries = models.PositiveIntegerField(default=0)
    resolved_version = models.ForeignKey(DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.id} ({self.source_name})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dataset": self.dataset,
            "source": self.source_name,
            "code": self.code,
            "reason": self.reason,
            "sha256": self.sha256,
            "size": self.size,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "retries": self.retries,
            "resolved_version": self.resolved_version.number if self.resolved_version else None,
            "resolved_at": self.resolved_at,
        }
