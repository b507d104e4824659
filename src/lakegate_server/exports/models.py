"""Exports: a dataset version sent to a warehouse table, one row per export."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models


class ExportRecord(models.Model):
    """A dataset version exported to a warehouse table."""

    dataset = models.CharField(max_length=100)
    number = models.PositiveIntegerField()
    destination = models.CharField(max_length=500, help_text="Where to, password masked.")
    table = models.CharField(max_length=200)
    mode = models.CharField(max_length=10)
    rows = models.BigIntegerField()
    seconds = models.FloatField()
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "sources_exportrecord"  # created by the sources app before exports had its own
        ordering: ClassVar = ["-created_at", "-id"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "version": self.number,
            "destination": self.destination,
            "table": self.table,
            "mode": self.mode,
            "rows": self.rows,
            "seconds": self.seconds,
            "created_at": self.created_at,
        }
