"""Stream compactions: a stream dataset's small files merged into fewer (the rows unchanged)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models


class Compaction(models.Model):
    """A stream dataset's small files merged: the latest version now reads ``delta_after``."""

    dataset = models.CharField(max_length=100)
    number = models.PositiveIntegerField(help_text="The dataset version that was compacted.")
    delta_before = models.PositiveIntegerField()
    delta_after = models.PositiveIntegerField()
    files_before = models.PositiveIntegerField()
    files_after = models.PositiveIntegerField()
    seconds = models.FloatField(default=0.0)
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "sources_compaction"  # created by the sources app before streams had its own
        ordering: ClassVar = ["-created_at", "-id"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "version": self.number,
            "delta_before": self.delta_before,
            "delta_after": self.delta_after,
            "files_before": self.files_before,
            "files_after": self.files_after,
            "seconds": self.seconds,
            "created_at": self.created_at,
        }
