"""Stored quality-gate reports: one per check of a dataset version (the JSON is the report)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.quality.shapes import CheckReportJson


class CheckReport(models.Model):
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="reports")
    status = models.CharField(max_length=10, help_text="pass, warn or fail")
    reference_versions: models.JSONField[list[int], list[int]] = models.JSONField(default=list)
    report: models.JSONField[CheckReportJson, CheckReportJson] = models.JSONField(
        help_text="lakegate.checks report (see report.schema.json)"
    )
    html_path = models.CharField(max_length=500, blank=True)
    seconds = models.FloatField(default=0.0)
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-id"]

    def __str__(self) -> str:
        return f"check of {self.version} ({self.status})"
