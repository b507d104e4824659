"""The ``ingest`` job: ingest an uploaded or inbox file as a run (worker side)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field

from lakegate.errors import InputError
from lakegate_server.datasets.services import dataset_ingest
from lakegate_server.jobs.context import JobContext
from lakegate_server.jobs.registry import JobSpec

__all__ = ["INGEST", "IngestParams"]


class IngestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str
    path: str = Field(..., description="A file under .lakegate/uploads/ (uploads and claimed inbox files).")
    original_name: str | None = None
    mode: Literal["append", "overwrite"] = "append"
    evolve: bool = False
    sheet: str | None = None


def _staged_file(raw: str) -> Path:
    """Only files lakegate itself staged may be ingested by a run: no reading of arbitrary paths."""
    uploads = settings.LAKEGATE.paths.uploads.resolve()
    path = Path(raw).resolve()
    if not path.is_relative_to(uploads):
        raise InputError(f"params.path must be a file under {uploads}", detail={"field": "path"})
    if not path.is_file():
        raise InputError(
            f"{path.name}: the staged file is gone (already ingested?)", detail={"field": "path"}
        )
    return path


def ingest(ctx: JobContext, params: IngestParams) -> dict[str, Any]:
    source = _staged_file(params.path)
    ctx.log("ingest started", dataset=params.dataset, file=params.original_name or source.name)
    try:
        outcome = dataset_ingest(
            name=params.dataset,
            source=source,
            original_name=params.original_name,
            mode=params.mode,
            evolve=params.evolve,
            sheet=params.sheet,
            created_by=f"run:{ctx.run_id}",
            move_source=True,
        )
    finally:
        # The per-upload folder: empty once the file went into the lake or the quarantine.
        with contextlib.suppress(OSError):
            source.parent.rmdir()
    summary = outcome.to_dict()
    ctx.log("ingest finished", version=summary["version"], duplicate=outcome.duplicate, rows=summary["rows"])
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in summary.items()}


INGEST = JobSpec(
    name="ingest",
    description="Ingest a staged file (upload or inbox drop) into a dataset.",
    params=IngestParams,
    func=ingest,
)
