"""What sources fetched: their resumable state and one row per fetched batch.

A source's ``state`` (cursor, seen objects) is saved in the same transaction as the
dataset version its batch became, so a run that dies half-way resumes where the last
committed batch ended: nothing is fetched into the lake twice, nothing is skipped.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models

from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.sources.shapes import SourceState


class Source(models.Model):
    name = models.CharField(max_length=100, unique=True)
    state: models.JSONField[SourceState, SourceState] = models.JSONField(
        default=dict, help_text="Opaque resume state of the source (cursor, objects)."
    )
    last_fired_at = models.DateTimeField(null=True, blank=True, help_text="The last cron slot started.")
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=20, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class SourceFetch(models.Model):
    """One fetched batch: which version it became (or that it was a duplicate / quarantined)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="fetches")
    label = models.CharField(max_length=500)
    rows = models.BigIntegerField(null=True, blank=True)
    bytes = models.BigIntegerField(default=0)
    state: models.JSONField[SourceState, SourceState] = models.JSONField(
        default=dict, help_text="The source's state after this batch."
    )
    version = models.ForeignKey(DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL)
    outcome = models.CharField(max_length=20, help_text="new, duplicate or quarantined")
    quarantine_id = models.CharField(max_length=40, blank=True)
    run_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "rows": self.rows,
            "bytes": self.bytes,
            "outcome": self.outcome,
            "version": self.version.number if self.version else None,
            "quarantine_id": self.quarantine_id or None,
            "created_at": self.created_at,
        }
