"""Knowledge-base builds run by the service: one row per build, with its report."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models

from lakegate_server.knowledge.shapes import BuildReportDict


class KnowledgeBuild(models.Model):
    """A build of knowledge base ``name`` from ``folder`` into ``output`` (a ``.jsonl``)."""

    name = models.CharField(max_length=100, db_index=True)
    folder = models.CharField(max_length=1000, help_text="The source folder, relative to the project.")
    output = models.CharField(max_length=1000, help_text="The knowledge base's JSONL path.")
    embedder = models.CharField(max_length=50)
    run_id = models.BigIntegerField(null=True, blank=True, help_text="The kb_build run, if one made it.")
    report: models.JSONField[BuildReportDict, BuildReportDict] = models.JSONField(
        help_text="lakegate.knowledge.BuildReport.to_dict(), drift included."
    )
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "name": self.name,
            "folder": self.folder,
            "output": self.output,
            "embedder": self.embedder,
            "run": self.run_id,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "report": self.report,
        }
